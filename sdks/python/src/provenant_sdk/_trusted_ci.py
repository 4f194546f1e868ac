"""Trusted CI: with no API key given, a client running in CI exchanges the CI provider's OpenID Connect ID
token for an API key that lives minutes (``POST /api/auth/token-exchange``), and exchanges again shortly
before that key expires. Nothing secret is stored in the CI's settings.

Where the ID token comes from, first found first:
- ``PROVENANT_ID_TOKEN``: a token the job was given (GitLab's ``id_tokens``, any other CI). Read again at
  every exchange, so a job may refresh it; a token is exchanged once, so once its key expires a job with
  the same token left gets the server's ``api_key_expired``.
- GitHub Actions (``permissions: id-token: write``): a fresh token from ``ACTIONS_ID_TOKEN_REQUEST_URL``
  with ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``, for the audience ``PROVENANT_OIDC_AUDIENCE`` (``provenant``).

The key is attached by an ``httpx.Auth``, shared by the client's pool and the background sender's, so every
request, blocking or queued, carries a key that is current.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from datetime import datetime

import httpx

from provenant_sdk._errors import ProvenantError
from provenant_sdk._http import Call, decode, send_sync

DEFAULT_AUDIENCE = "provenant"
# Exchanged again this long before the key expires (a quarter of its life for keys shorter than 4 minutes).
REFRESH_MARGIN_SECONDS = 60.0
_EXCHANGE = "/api/auth/token-exchange"


class _IdTokens:
    """Where fresh ID tokens come from; ``None`` when the next one could only be the last one again."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._last: str | None = None

    @staticmethod
    def available(environ: Mapping[str, str]) -> bool:
        return bool(environ.get("PROVENANT_ID_TOKEN")) or bool(
            environ.get("ACTIONS_ID_TOKEN_REQUEST_URL") and environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        )

    def next(self, timeout: httpx.Timeout) -> str | None:
        given = self._environ.get("PROVENANT_ID_TOKEN")
        if given:
            token: str | None = given.strip() if given.strip() != self._last else None
        else:
            token = self._from_github(timeout)
        if token is not None:
            self._last = token
        return token

    def _from_github(self, timeout: httpx.Timeout) -> str:
        url = self._environ["ACTIONS_ID_TOKEN_REQUEST_URL"]
        audience = self._environ.get("PROVENANT_OIDC_AUDIENCE") or DEFAULT_AUDIENCE
        headers = {"Authorization": f"bearer {self._environ['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"}
        try:
            with httpx.Client(timeout=timeout) as github:
                response = github.get(url, params={"audience": audience}, headers=headers)
            value = response.json().get("value") if response.is_success else None
        except (httpx.HTTPError, ValueError, AttributeError):
            value = None
            response = None
        if not isinstance(value, str) or not value:
            status = f"HTTP {response.status_code}" if response is not None else "no answer"
            raise ProvenantError(
                f"GitHub Actions gave no ID token ({status}); does the workflow grant "
                "`permissions: id-token: write`?",
                code="id_token_unavailable",
            )
        return value


class TrustedCiAuth(httpx.Auth):
    """Bearer auth with a key exchanged from a CI ID token; thread-safe, shared by every pool of a client."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        timeout: httpx.Timeout,
        max_retries: int,
        transport: httpx.BaseTransport | None,
        environ: Mapping[str, str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tokens = _IdTokens(environ)
        self._base_url = base_url
        self._headers = dict(headers)
        self._transport = transport
        self._timeout = timeout
        self._max_retries = max_retries
        self._clock = clock
        self._lock = threading.Lock()
        self._key: str | None = None
        self._refresh_at = 0.0

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        key = self.key()
        request.headers["Authorization"] = f"Bearer {key}"
        response = yield request
        if response.status_code == 401 and (fresh := self.key(replacing=key)) != key:
            request.headers["Authorization"] = f"Bearer {fresh}"
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        key = self._current() or await asyncio.to_thread(self.key)  # exchanging blocks: not on the event loop
        request.headers["Authorization"] = f"Bearer {key}"
        response = yield request
        if response.status_code == 401 and (fresh := await asyncio.to_thread(self.key, replacing=key)) != key:
            request.headers["Authorization"] = f"Bearer {fresh}"
            yield request

    def _current(self) -> str | None:
        key = self._key
        return key if key is not None and self._clock() < self._refresh_at else None

    def key(self, *, replacing: str | None = None) -> str:
        """The key to send: the current one, or one exchanged now when it is about to expire (or the server
        refused ``replacing``, e.g. because the clocks disagree) and a fresh ID token can be had."""
        with self._lock:
            stale = replacing is not None and replacing == self._key
            if self._key is not None and not stale and self._clock() < self._refresh_at:
                return self._key
            token = self._tokens.next(self._timeout)
            if token is None:
                if self._key is not None:
                    return self._key  # nothing fresher to exchange: the server will say the key expired
                raise ProvenantError("No ID token to exchange for an API key.", code="id_token_unavailable")
            with httpx.Client(
                base_url=self._base_url,
                headers=self._headers,
                timeout=self._timeout,
                transport=self._transport,
            ) as http:
                answer = decode(
                    send_sync(http, Call("POST", _EXCHANGE, json={"idToken": token}), self._max_retries)
                )
            now = self._clock()
            expires = datetime.fromisoformat(answer["expiresAt"].replace("Z", "+00:00")).timestamp()
            self._key = str(answer["key"])
            self._refresh_at = expires - min(REFRESH_MARGIN_SECONDS, max(expires - now, 0.0) / 4)
            return self._key


def trusted_ci_available(environ: Mapping[str, str]) -> bool:
    """Whether a CI provider's ID token is at hand (the client then exchanges it instead of needing a key)."""
    return _IdTokens.available(environ)
