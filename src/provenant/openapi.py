"""The OpenAPI document: the bearer scheme on every authenticated route, and every error a route can answer.

Every error status is declared here, and only here: by rule where a rule holds (401/403/429 wherever a caller is
identified, 400/413 wherever a body is read, 404 wherever a path names a resource, 422 and 503 everywhere but
``/api/health`` and ``/api/ready``), and per route where only that route answers it (409 conflicts, 410 used
invitations), with the route's own meaning when the rule's does not say it. Route decorators declare their
successes only. Every error has the one shape ``errors.py`` renders, the ``Error`` component.
"""

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from provenant.auth.deps import is_authenticated

ERROR_REF = {"$ref": "#/components/schemas/Error"}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "description": "Every error: a sentence for a person and a machine code; 422 names the fields (never "
    "their values); a 500 quotes the request id.",
    "required": ["error", "code"],
    "properties": {
        "error": {"type": "string"},
        "code": {"type": "string"},
        "details": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "requestId": {"type": "string"},
    },
}

_DESCRIPTIONS = {
    400: "The body is not valid JSON in UTF-8 (`invalid_json`); for a password reset, the link's token was used, "
    "replaced or has expired (`invalid_reset_token`); a sign-in code from /sso-complete was used or has expired "
    "(`invalid_sign_in_code`).",
    401: "Who is calling is unknown: no, malformed, unknown, expired, revoked or signed-out credentials "
    "(`WWW-Authenticate: Bearer`).",
    403: "The caller's role, or the key's access, does not allow this (`forbidden`); registration on an "
    "invite-only server (`signup_disabled`); a person whose organization requires two-factor sign-in and who "
    "has not turned it on (`two_factor_required`); a password sign-in or reset for an email whose domain signs "
    "in with single sign-on only (`sso_required`).",
    404: "Not found, or not visible to the caller (another organization's ids look missing).",
    409: "Conflicts with the current state (a taken slug or email, an ended session, …).",
    410: "The invitation was used, cancelled or has expired.",
    413: "The body is larger than the route accepts (`payload_too_large`).",
    422: "A field, parameter or body breaks a rule stated in this document (`validation_error`).",
    429: "Too many failed attempts or password reset requests from this client (`too_many_attempts`), or more "
    "requests this minute than the API key's `rateLimitPerMinute` (`rate_limited`, with `RateLimit-Limit`, "
    "`RateLimit-Remaining` and `RateLimit-Reset`); retry after `Retry-After` seconds.",
    503: "The database is busy; retry after `Retry-After` seconds (`busy`).",
}


@dataclass(frozen=True, slots=True)
class Own:
    """An error with a meaning of its own on one route. Listed right after the route's successes, in the order
    given; a rule that covers the status still gives it the rule's meaning (token exchange's 503)."""

    description: str
    retry_after: bool = False


# What a single route answers beyond the rules (its own meaning first, then the statuses that mean what they
# mean everywhere).
_OWN: dict[tuple[str, str], dict[int, Own]] = {
    ("POST", "/api/org/keys/{key_id}/roll"): {
        409: Own(
            "The key is revoked (`api_key_revoked`), expired (`api_key_expired`), already rolled (`api_key_rolled`), "
            "or its creator holds 100 other active keys (`key_limit_reached`)."
        )
    },
    ("POST", "/api/keys/report-leaked"): {
        429: Own("More than 100 reports in an hour from this client (`too_many_attempts`, `Retry-After`).", True)
    },
    ("POST", "/api/auth/token-exchange"): {
        401: Own(
            "The ID token's signature, issuer, audience or time is wrong (`invalid_id_token`), or it was "
            "exchanged before (`id_token_reused`)."
        ),
        403: Own("No trust policy matches the token's claims (`no_matching_policy`)."),
        409: Own("Policies of more than one organization match (`ambiguous_policy`)."),
        429: Own("Too many refused exchanges from this client (`too_many_attempts`)."),
        # Shown with the rule's meaning (a busy database), as the document has always shown it.
        503: Own("The issuer's keys could not be fetched (`issuer_unavailable`)."),
    },
    ("GET", "/api/ready"): {503: Own("A dependency cannot be reached (`not_ready`); `checks` says which.")},
}

_PER_ROUTE: dict[tuple[str, str], set[int]] = {
    ("POST", "/api/auth/register"): {403, 409, 429},
    ("POST", "/api/auth/forgot-password"): {403, 429},
    ("POST", "/api/auth/reset-password"): {403},
    ("POST", "/api/org/members/{user_id}/password-reset"): {409},
    ("POST", "/api/auth/login"): {401, 403, 429},
    ("GET", "/api/org/sso"): {404},
    ("PUT", "/api/org/sso"): {409},
    ("GET", "/api/auth/sso/start"): {404},
    ("GET", "/api/auth/github"): {404},
    ("GET", "/api/auth/invitations/{token}"): {404, 410},
    ("POST", "/api/auth/accept-invitation"): {401, 404, 409, 410, 429},
    ("POST", "/api/auth/password"): {409},
    ("POST", "/api/auth/2fa/totp"): {409},
    ("POST", "/api/auth/2fa/totp/confirm"): {409},
    ("POST", "/api/auth/2fa/recovery-codes"): {409},
    ("POST", "/api/auth/login/2fa"): {401, 429},
    ("PATCH", "/api/org/settings"): {409},
    ("POST", "/api/agents"): {409},
    ("POST", "/api/agents/get-or-create"): {409},
    ("PATCH", "/api/agents/{agent_id}"): {409},
    ("POST", "/api/sessions"): {404},
    ("PATCH", "/api/sessions/{session_id}"): {409},
    ("POST", "/api/sessions/{session_id}/turns"): {409},
    ("POST", "/api/sessions/{session_id}/end"): {409},
    ("POST", "/api/org/keys"): {409},
    ("PATCH", "/api/org/members/{user_id}/role"): {409},
    ("DELETE", "/api/org/members/{user_id}"): {409},
    ("POST", "/api/org/invitations"): {409},
    ("DELETE", "/api/org/invitations/{invitation_id}"): {409},
}

_UNDECLARED = frozenset({"/api/health", "/api/ready"})  # /api/ready declares its own 503

# Sent with every answer to a key that has a rate limit (auth.rate_limits), the 429 included.
_RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "the key's requests a minute.",
    "RateLimit-Remaining": "requests left this minute.",
    "RateLimit-Reset": "seconds until the minute ends.",
}


def error_statuses(route: APIRoute, method: str) -> set[int]:
    """Every error status ``method`` on ``route`` can answer."""
    return set(_OWN.get((method, route.path_format), {})) | _ruled_statuses(route, method)


def _ruled_statuses(route: APIRoute, method: str) -> set[int]:
    """The statuses that mean on this route what they mean everywhere (_DESCRIPTIONS)."""
    if route.path_format in _UNDECLARED:
        return set()
    statuses = {422, 503}
    if is_authenticated(route.dependant):
        statuses |= {401, 403, 429}
    if route.body_field is not None:
        statuses |= {400, 413}
    if route.dependant.path_params:
        statuses.add(404)
    return statuses | _PER_ROUTE.get((method, route.path_format), set())


def _own_response(own: Own) -> dict[str, Any]:
    response: dict[str, Any] = {"description": own.description}  # keys in the order FastAPI writes them
    if own.retry_after:
        response["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
    return response | {"content": {"application/json": {"schema": ERROR_REF}}}


def _error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _DESCRIPTIONS[status],
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
    if status == 429:
        response["headers"] |= {
            name: {"description": f"With `rate_limited`: {meaning}", "schema": {"type": "integer"}}
            for name, meaning in _RATE_LIMIT_HEADERS.items()
        }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}}
    return response


def build(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
    components = schema.setdefault("components", {})
    components["securitySchemes"] = {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "A JWT from /api/auth/login or /api/auth/register, or a pk_live_ API key.",
        }
    }
    schemas = components.setdefault("schemas", {})
    # FastAPI's own 422 shape ({"detail": [...]}) is not what the server answers.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Error"] = ERROR_SCHEMA
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            if is_authenticated(route.dependant):
                operation["security"] = [{"bearerAuth": []}]
            operation["responses"] = _responses(operation.get("responses", {}), route, method)
    return schema


def _responses(generated: dict[str, Any], route: APIRoute, method: str) -> dict[str, Any]:
    """The route's successes, its own errors, FastAPI's 422, then the rules' errors by status."""
    successes = {status: answer for status, answer in generated.items() if int(status) < 400}
    own = {str(status): _own_response(own) for status, own in _OWN.get((method, route.path_format), {}).items()}
    responses = successes | own | {status: answer for status, answer in generated.items() if status not in successes}
    for status in sorted(_ruled_statuses(route, method)):
        responses[str(status)] = _error_response(status)
    return responses


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
