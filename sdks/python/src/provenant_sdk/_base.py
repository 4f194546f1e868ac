"""What the sync and the async client share: configuration, request building, error mapping, retry policy.

The two clients differ only in how they wait and send; everything they decide is decided here.
"""

from __future__ import annotations

import logging
import os
import string
from typing import Any, NamedTuple

import httpx

from provenant_sdk import _retry
from provenant_sdk._errors import STATUS_ERRORS, APIConnectionError, APIStatusError, ProvenantError
from provenant_sdk._version import __version__

logger = logging.getLogger("provenant_sdk")

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
USER_AGENT = f"provenant-python/{__version__}"
_HEADER_SAFE = frozenset(string.ascii_letters + string.digits + string.punctuation)


class Call(NamedTuple):
    """One API operation, before it becomes an HTTP request."""

    method: str
    path: str
    json: Any = None
    params: dict[str, str] | None = None


class BaseClient:
    """Resolves configuration and turns calls into requests and answers into results or errors."""

    base_url: str
    max_retries: int
    _http: httpx.Client | httpx.AsyncClient

    def __init__(self, *, base_url: str | None, api_key: str | None, max_retries: int) -> None:
        base_url = base_url if base_url is not None else os.environ.get("PROVENANT_URL")
        api_key = api_key if api_key is not None else os.environ.get("PROVENANT_API_KEY")
        if not base_url:
            raise ProvenantError(
                "No Provenant URL: pass base_url= or set PROVENANT_URL (e.g. https://api.example.com).",
                code="missing_base_url",
            )
        if not base_url.startswith(("http://", "https://")):
            raise ProvenantError(
                f"The Provenant URL must start with http:// or https://, got {base_url!r}.",
                code="invalid_base_url",
            )
        if not api_key or not api_key.strip():
            raise ProvenantError(
                "No Provenant API key: pass api_key= or set PROVENANT_API_KEY to a pk_live_... key.",
                code="missing_api_key",
            )
        api_key = api_key.strip()
        # Checked here so that the HTTP layer never gets to quote an unsendable key in its own error.
        if not set(api_key) <= _HEADER_SAFE:
            raise ProvenantError(
                "The API key contains characters that cannot be sent in a header; check PROVENANT_API_KEY.",
                code="malformed_api_key",
            )
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"

    def _timeout(self, timeout: float | httpx.Timeout | None) -> httpx.Timeout:
        return timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)

    def _build_request(self, call: Call) -> httpx.Request:
        return self._http.build_request(call.method, call.path, json=call.json, params=call.params)

    def _retry_delay(
        self, request: httpx.Request, outcome: httpx.Response | httpx.TransportError, retries_done: int
    ) -> float | None:
        """Seconds to wait before sending `request` again, or ``None`` to settle on `outcome`."""
        if isinstance(outcome, httpx.Response):
            if outcome.is_success:
                return None
            delay = _retry.delay_after_response(request.method, outcome, retries_done, self.max_retries)
            reason = f"HTTP {outcome.status_code}"
        else:
            delay = _retry.delay_after_error(request.method, outcome, retries_done, self.max_retries)
            reason = type(outcome).__name__
        if delay is not None:
            logger.info(
                "Retrying %s %s in %.2fs after %s (retry %d of %d)",
                request.method,
                request.url.path,
                delay,
                reason,
                retries_done + 1,
                self.max_retries,
            )
        return delay

    def _result(self, request: httpx.Request, outcome: httpx.Response | httpx.TransportError) -> Any:
        """The decoded body of a 2xx answer; otherwise raises the exception that stands for the outcome.

        Called outside any ``except`` block, so the raised exception holds no chained httpx error (whose
        request carries the key in its headers).
        """
        if isinstance(outcome, httpx.TransportError):
            timed_out = isinstance(outcome, httpx.TimeoutException)
            what = "timed out" if timed_out else f"got no answer: {type(outcome).__name__}: {outcome}"
            raise APIConnectionError(
                f"{request.method} {request.url.path} to {self.base_url} {what}",
                code="timeout" if timed_out else "connection_error",
            )
        if not outcome.is_success:
            raise _status_error(outcome)
        if outcome.status_code == 204 or not outcome.content:
            return None
        try:
            return outcome.json()
        except ValueError:
            pass
        raise ProvenantError(
            f"Expected JSON from {request.url.path}, got {outcome.headers.get('content-type')!r}; "
            "is the base URL the Provenant API?",
            code="invalid_response",
            status_code=outcome.status_code,
        )


def _status_error(response: httpx.Response) -> APIStatusError:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text or None
    message, code = response.reason_phrase or f"HTTP {response.status_code}", None
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            message = body["error"]
        if isinstance(body.get("code"), str):
            code = body["code"]
    cls = STATUS_ERRORS.get(response.status_code, APIStatusError)
    return cls(message, status_code=response.status_code, code=code, body=body, headers=response.headers)
