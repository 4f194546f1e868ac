"""Every exception the SDK raises, in one tree.

    ProvenantError                   base; also raised alone for a missing or invalid base URL or key
    ├── APIConnectionError           no HTTP answer: connection refused or dropped, DNS, ...
    │   └── APITimeoutError          ... or the timeout ran out (code ``"timeout"``)
    └── APIStatusError (HttpError)   the server answered with a status outside 2xx
        ├── AuthenticationError      401: missing, unknown, expired or revoked key
        ├── PermissionDeniedError    403: the key's role or access may not do this
        ├── NotFoundError            404: missing, or belongs to another organization
        ├── ConflictError            409: duplicate slug, session already ended, ...
        ├── UnprocessableEntityError 422: the request broke a rule; ``details`` names the fields
        ├── RateLimitError           429: slow down; ``retry_after`` says for how long
        └── InternalServerError      500 and every other 5xx

Other statuses (400, 410 for a used invitation, 413) are a plain `APIStatusError`. ``HttpError`` is another
name for `APIStatusError`, for code written with the TypeScript SDK's name.

Each carries ``message`` (a sentence for a person), ``code`` and ``status_code`` (``None`` when there was no
HTTP answer). ``code`` is the server's machine code (e.g. ``"api_key_revoked"``) or the SDK's own:
``"missing_base_url"``, ``"invalid_base_url"``, ``"missing_api_key"``, ``"malformed_api_key"``,
``"connection_error"``, ``"timeout"``, ``"invalid_response"``. `APIStatusError` also keeps the decoded
``body`` and the response ``headers``. An exception never contains the API key, nor the request (whose
headers do).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provenant_sdk._retry import parse_retry_after

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "ConflictError",
    "HttpError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProvenantError",
    "RateLimitError",
    "UnprocessableEntityError",
]


class ProvenantError(Exception):
    """Base of every SDK exception."""

    message: str
    code: str | None
    status_code: int | None

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code

    def __str__(self) -> str:
        parts = [str(self.status_code)] if self.status_code is not None else []
        if self.code:
            parts.append(self.code)
        return f"{self.message} ({', '.join(parts)})" if parts else self.message

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}({self.message!r}, code={self.code!r}, status_code={self.status_code!r})"


class APIConnectionError(ProvenantError):
    """The request got no HTTP answer (after the retries it was allowed)."""


class APITimeoutError(APIConnectionError):
    """The request got no answer within the client's ``timeout`` (after the retries it was allowed)."""


class APIStatusError(ProvenantError):
    """The server answered with a non-2xx status; the base for statuses without a class of their own."""

    status_code: int
    body: Any
    headers: Mapping[str, str]

    def __init__(
        self, message: str, *, status_code: int, code: str | None, body: Any, headers: Mapping[str, str]
    ) -> None:
        super().__init__(message, code=code, status_code=status_code)
        self.body = body
        self.headers = headers

    @property
    def details(self) -> list[dict[str, Any]] | None:
        """Per-field problems of a 422 ``validation_error``: ``[{"field": ..., "message": ...}]``."""
        details = self.body.get("details") if isinstance(self.body, dict) else None
        return details if isinstance(details, list) else None


class AuthenticationError(APIStatusError):
    """401: the API key is missing, malformed, unknown, expired or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: authenticated, but the key's role does not allow this."""


class NotFoundError(APIStatusError):
    """404: no such resource in the key's organization."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the current state (duplicate slug, ended session)."""


class UnprocessableEntityError(APIStatusError):
    """422: the request broke a rule of the contract (``validation_error``); ``details`` says where."""


class RateLimitError(APIStatusError):
    """429: too many requests."""

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait (``Retry-After``), if it said."""
        return parse_retry_after(self.headers.get("retry-after"))


class InternalServerError(APIStatusError):
    """5xx: the server (or a proxy in front of it) failed; requests safe to repeat were retried first."""


HttpError = APIStatusError

_BY_STATUS: dict[int, type[APIStatusError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class(status_code: int) -> type[APIStatusError]:
    """The exception that stands for an error status."""
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, APIStatusError)
