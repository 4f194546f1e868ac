"""Domain errors, and the one way any error is rendered: the contract's ``{"error", "code"}``."""

import math
from datetime import timedelta
from typing import Any

from starlette.responses import JSONResponse


class ProvenantError(Exception):
    status_code = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or self.message
        self.code = code or self.code
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code}

    def headers(self) -> dict[str, str]:
        return {}


def error_response(
    status: int, message: str, code: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """Every error the server answers, in the contract's shape; every 401 says how to authenticate."""
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": message, "code": code, **extra}, status_code=status, headers=headers)


def render(error: ProvenantError) -> JSONResponse:
    body = error.body()
    return error_response(error.status_code, body.pop("error"), body.pop("code"), headers=error.headers(), **body)


class InvalidJson(ProvenantError):
    """400: the body is not a JSON text as RFC 8259 exchanges them (well-formed, encoded in UTF-8)."""

    code = "invalid_json"
    message = "The request body is not valid JSON."


class Unauthenticated(ProvenantError):
    """401: we do not know who is calling. Always answered with ``WWW-Authenticate: Bearer``."""

    status_code = 401
    code = "unauthenticated"
    message = "Authentication required: send 'Authorization: Bearer <token or API key>'."


class Forbidden(ProvenantError):
    status_code = 403
    code = "forbidden"
    message = "Your role does not allow this action."


class NotFound(ProvenantError):
    status_code = 404
    code = "not_found"

    def __init__(self, what: str = "Resource", *, code: str | None = None) -> None:
        super().__init__(f"{what} not found.", code=code)


class Conflict(ProvenantError):
    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class Gone(ProvenantError):
    status_code = 410
    code = "gone"


class PayloadTooLarge(ProvenantError):
    status_code = 413
    code = "payload_too_large"
    message = "The request body is too large."


class ValidationFailed(ProvenantError):
    """422 for a rule a schema cannot express (e.g. a date that must lie in the future)."""

    status_code = 422
    code = "validation_error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__("The request is invalid.")
        self.details = [{"field": field, "message": message}]

    def body(self) -> dict[str, Any]:
        return {**super().body(), "details": self.details}


class Busy(ProvenantError):
    """503: the database had no free connection, another process held a lock too long, or the database (or
    Redis) could not be reached for the moment: a retry will get past each of them."""

    status_code = 503
    code = "busy"
    message = "The server is busy; retry in a moment."
    retry_after_seconds = 1

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class TooManyRequests(ProvenantError):
    """429 with ``Retry-After``: the seconds until the limit lifts."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: timedelta) -> None:
        self.retry_after_seconds = max(1, math.ceil(retry_after.total_seconds()))
        super().__init__(message.format(seconds=self.retry_after_seconds))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class TooManyAttempts(TooManyRequests):
    """Too many failed sign-ins or key authentications; the same answer for a right password or key."""

    code = "too_many_attempts"

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__("Too many failed attempts; try again in {seconds} seconds.", retry_after=retry_after)


class RateLimited(TooManyRequests):
    """An API key used more often than its ``rateLimitPerMinute``; carries the RateLimit headers (auth.rate_limits)."""

    code = "rate_limited"

    def __init__(self, limit: int, retry_after_seconds: int, rate_limit_headers: dict[str, str]) -> None:
        super().__init__(
            f"This API key may make {limit} requests a minute; try again in {{seconds}} seconds.",
            retry_after=timedelta(seconds=retry_after_seconds),
        )
        self._rate_limit_headers = rate_limit_headers

    def headers(self) -> dict[str, str]:
        return {**super().headers(), **self._rate_limit_headers}
