"""Requests and answers: configuration, building a request, retrying it, and turning the answer into a result
or an exception. The clients, the pages and the background sender all go through here."""

from __future__ import annotations

import asyncio
import logging
import os
import string
import time
from typing import Any, NamedTuple

import httpx

from provenant_sdk import _retry
from provenant_sdk._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ProvenantError,
    error_class,
)
from provenant_sdk._version import __version__

logger = logging.getLogger("provenant_sdk")

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_QUEUED_TURNS = 10_000
USER_AGENT = f"provenant-python/{__version__}"
_HEADER_SAFE = frozenset(string.ascii_letters + string.digits + string.punctuation)


class Call(NamedTuple):
    """One API operation, before it becomes an HTTP request."""

    method: str
    path: str
    json: Any = None
    params: dict[str, str] | None = None
    idempotent: bool = False
    """A POST the server makes safe to repeat, so it is retried like a GET."""

    @property
    def repeatable(self) -> bool:
        return self.idempotent or self.method in _retry.IDEMPOTENT_METHODS


class Settings(NamedTuple):
    """What a client was configured with, resolved; the background sender builds its own pool from it."""

    base_url: str
    headers: dict[str, str]
    timeout: httpx.Timeout
    max_retries: int
    max_queued_turns: int
    # Set when no API key was given and a CI provider's ID token is exchanged for one (_trusted_ci).
    auth: httpx.Auth | None = None


def resolve_settings(
    *,
    base_url: str | None,
    api_key: str | None,
    timeout: float | httpx.Timeout | None,
    max_retries: int,
    max_queued_turns: int,
    trusted_ci: bool = False,
) -> Settings:
    """Arguments first, then PROVENANT_URL and PROVENANT_API_KEY; `ProvenantError` if one is missing. With
    ``trusted_ci`` (a CI provider's ID token is at hand), no key is needed: the headers then carry none, and
    the client attaches the key it exchanges the token for."""
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
    if (not api_key or not api_key.strip()) and not trusted_ci:
        raise ProvenantError(
            "No Provenant API key: pass api_key= or set PROVENANT_API_KEY to a pk_live_... key (in CI, a "
            "trust policy and the provider's ID token can stand in for it: see the README's Trusted CI).",
            code="missing_api_key",
        )
    api_key = (api_key or "").strip()
    # Checked here so that the HTTP layer never gets to quote an unsendable key in its own error.
    if not set(api_key) <= _HEADER_SAFE:
        raise ProvenantError(
            "The API key contains characters that cannot be sent in a header; check PROVENANT_API_KEY.",
            code="malformed_api_key",
        )
    if max_retries < 0:
        raise ValueError("max_retries must be 0 or more")
    if max_queued_turns < 1:
        raise ValueError("max_queued_turns must be 1 or more")
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return Settings(
        base_url.rstrip("/"),
        headers,
        timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        max_retries,
        max_queued_turns,
    )


def build_request(http: httpx.Client | httpx.AsyncClient, call: Call) -> httpx.Request:
    return http.build_request(call.method, call.path, json=call.json, params=call.params)


def retry_delay(
    call: Call,
    request: httpx.Request,
    outcome: httpx.Response | httpx.TransportError,
    retries_done: int,
    max_retries: int,
) -> float | None:
    """Seconds to wait before sending `request` again, or ``None`` to settle on `outcome`."""
    if isinstance(outcome, httpx.Response):
        if outcome.is_success:
            return None
        delay = _retry.delay_after_response(call.repeatable, outcome, retries_done, max_retries)
        reason = f"HTTP {outcome.status_code}"
    else:
        delay = _retry.delay_after_error(call.repeatable, outcome, retries_done, max_retries)
        reason = type(outcome).__name__
    if delay is not None:
        logger.info(
            "Retrying %s %s in %.2fs after %s (retry %d of %d)",
            request.method,
            request.url.path,
            delay,
            reason,
            retries_done + 1,
            max_retries,
        )
    return delay


def settle(request: httpx.Request, outcome: httpx.Response | httpx.TransportError) -> httpx.Response:
    """The 2xx response; otherwise raises the exception that stands for the outcome.

    Called outside any ``except`` block, so the raised exception holds no chained httpx error (whose
    request carries the key in its headers).
    """
    if isinstance(outcome, httpx.TransportError):
        if isinstance(outcome, httpx.TimeoutException):
            raise APITimeoutError(f"{request.method} {request.url.path} timed out", code="timeout")
        raise APIConnectionError(
            f"{request.method} {request.url.path} to {request.url.scheme}://{request.url.netloc.decode()}"
            f" got no answer: {type(outcome).__name__}: {outcome}",
            code="connection_error",
        )
    if not outcome.is_success:
        raise status_error(outcome)
    return outcome


def decode(response: httpx.Response) -> Any:
    """The JSON body of a 2xx answer (``None`` when empty)."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        pass
    raise ProvenantError(
        f"Expected JSON from {response.request.url.path}, got {response.headers.get('content-type')!r}; "
        "is the base URL the Provenant API?",
        code="invalid_response",
        status_code=response.status_code,
    )


def send_sync(http: httpx.Client, call: Call, max_retries: int, *, stream: bool = False) -> httpx.Response:
    """Send `call` on a blocking pool, retrying as the retry rules allow; the 2xx response or the error."""
    request = build_request(http, call)
    retries_done = 0
    while True:
        try:
            outcome: httpx.Response | httpx.TransportError = http.send(request, stream=stream)
        except httpx.TransportError as error:
            outcome = error
        delay = retry_delay(call, request, outcome, retries_done, max_retries)
        if delay is None:
            if stream and isinstance(outcome, httpx.Response) and not outcome.is_success:
                outcome.read()
            return settle(request, outcome)
        if isinstance(outcome, httpx.Response):
            outcome.close()
        time.sleep(delay)
        retries_done += 1


def status_error(response: httpx.Response) -> APIStatusError:
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
    cls = error_class(response.status_code)
    return cls(message, status_code=response.status_code, code=code, body=body, headers=response.headers)


async def send_async(
    http: httpx.AsyncClient, call: Call, max_retries: int, *, stream: bool = False
) -> httpx.Response:
    """`send_sync` for asyncio."""
    request = build_request(http, call)
    retries_done = 0
    while True:
        try:
            outcome: httpx.Response | httpx.TransportError = await http.send(request, stream=stream)
        except httpx.TransportError as error:
            outcome = error
        delay = retry_delay(call, request, outcome, retries_done, max_retries)
        if delay is None:
            if stream and isinstance(outcome, httpx.Response) and not outcome.is_success:
                await outcome.aread()
            return settle(request, outcome)
        if isinstance(outcome, httpx.Response):
            await outcome.aclose()
        await asyncio.sleep(delay)
        retries_done += 1
