"""create_app(): the routes under /api, the one error handler, the one layer every request passes."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from provenant import __version__, log_redaction, metrics, openapi
from provenant.accounts.passwords import dummy_password_hash
from provenant.accounts.routes import router as accounts_router
from provenant.agents.routes import router as agents_router
from provenant.api_docs import DOCS_ROUTES
from provenant.api_keys.key_use import KeyUse
from provenant.api_keys.reminders import remind_expiring_keys
from provenant.api_keys.routes import leaked_router
from provenant.api_keys.routes import router as api_keys_router
from provenant.audit.routes import router as audit_router
from provenant.auth.attempts import AttemptLimiter
from provenant.auth.encryption import deployment_key
from provenant.auth.rate_limits import KeyRateLimiter
from provenant.auth.security import load_or_create_jwt_secret
from provenant.config import Settings, get_settings
from provenant.dashboard import install_dashboard
from provenant.db import Database, PoolOptions, is_busy, is_unreachable
from provenant.email.outbox import install_outbox
from provenant.email.sender import Sender
from provenant.errors import Busy, InvalidJson, ProvenantError, error_response, render
from provenant.headers import API_HEADERS, cors_options, is_api
from provenant.oidc.fetch import AddressRules
from provenant.oidc.tokens import IssuerKeys
from provenant.org_settings.routes import router as org_settings_router
from provenant.readiness import router as readiness_router
from provenant.redis_client import Scripts
from provenant.request_id import HEADER as REQUEST_ID_HEADER
from provenant.request_id import request_id
from provenant.request_layer import RequestLayer
from provenant.sessions.routes import router as sessions_router
from provenant.sign_in.routes import org_router as sso_config_router
from provenant.sign_in.routes import router as sign_in_router
from provenant.team.routes import invitation_links_router
from provenant.team.routes import router as team_router
from provenant.trust.routes import exchange_router
from provenant.trust.routes import router as trust_router
from provenant.two_factor.routes import router as two_factor_router
from provenant.unit_of_work import UnitOfWorkMiddleware

logger = logging.getLogger("provenant")

_STATUS_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProvenantError)
    metrics.count_error(exc)  # authentication failures, by code, when metrics are on
    return render(exc)


def _allowed_methods(request: Request) -> str:
    """Every method the path's resource answers: the route that raised the 405 knows only its own. A path
    that names a resource of its own is that resource, though a template matches it too:
    ``/api/agents/get-or-create`` allows POST, not the GET, PATCH and DELETE of ``/api/agents/{agent_id}``."""
    matching = [
        route
        for route in request.app.router.routes
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] != Match.NONE
    ]
    fewest = min((len(route.param_convertors) for route in matching), default=0)
    methods = {method for route in matching if len(route.param_convertors) == fewest for method in route.methods or ()}
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "Request failed."
    headers = dict(exc.headers or {})
    if exc.status_code == 400:
        # FastAPI's answer to a body its JSON parser refused with something other than a decode error (a number
        # of more than 4,300 digits, Python's limit): malformed JSON as far as the contract is concerned.
        return render(InvalidJson())
    if exc.status_code == 404:
        message = "Not found."
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed here."
        headers["Allow"] = _allowed_methods(request)
    return error_response(exc.status_code, message, _STATUS_CODES.get(exc.status_code, "error"), headers=headers)


def _field_name(location: tuple[Any, ...]) -> str:
    # ("body", "expiresAt") → "expiresAt"; ("query", "limit") → "limit"; the whole body → "body".
    parts = [str(part) for part in location[1:]] or [str(location[0])]
    return ".".join(parts)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """Names the field and the rule, never the submitted value (it may be a password)."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return render(InvalidJson())
    details = [{"field": _field_name(tuple(e["loc"])), "message": e["msg"]} for e in errors]
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:3])
    return error_response(422, f"Invalid request — {summary}", "validation_error", details=details)


def _database_away(exc: BaseException | None) -> BaseException | None:
    """The database failure behind ``exc`` that a retry will get past (busy, or unreachable for now), if any.
    A commit that fails once the response has begun reaches us wrapped by Starlette."""
    while exc is not None:
        if is_busy(exc) or is_unreachable(exc):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """SQLAlchemy's errors, and a commit that failed: answered inside the middlewares, which add their headers."""
    return _failure(request, exc, outside_middleware=False)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything else: answered by Starlette's ServerErrorMiddleware, outside every middleware."""
    return _failure(request, exc, outside_middleware=True)


def _failure(request: Request, exc: Exception, *, outside_middleware: bool) -> JSONResponse:
    if (away := _database_away(exc)) is not None:
        if is_unreachable(away):
            # What an operator needs to see a restart or failover in the log: when, and the driver's reason.
            reason = str(getattr(away, "orig", away)).strip().partition("\n")[0]
            logger.warning(
                "database unreachable (%s): %s %s answered 503 busy", reason, request.method, request.url.path
            )
        return render(Busy())
    reference = request_id(request)
    logger.exception("unhandled error on %s %s (request %s)", request.method, request.url.path, reference)
    headers: dict[str, str] = {}
    if outside_middleware:  # the headers the middlewares would have added are set here
        headers = {REQUEST_ID_HEADER: reference} if reference else {}
        if is_api(request.url.path):
            headers |= API_HEADERS
    return error_response(
        500,
        f"Something went wrong on our side. If you report it, quote request {reference}.",
        "internal_error",
        headers=headers,
        requestId=reference,
    )


health_router = APIRouter(tags=["health"])


@health_router.get("/api/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def add_routes(app: FastAPI, routers: tuple[APIRouter, ...]) -> None:
    """The routers' routes themselves, not ``app.include_router()``: that costs ``GET /api/auth/me``
    with a key about 20 % more server CPU per request, and the agent list as much (benchmarks/route_table.py)."""
    for router in routers:
        app.router.routes.extend(router.routes)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = Database(
        settings.resolved_database_url,
        PoolOptions(
            size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            timeout=settings.db_pool_timeout,
            lock_timeout=settings.db_lock_timeout,
        ),
    )
    key_use = KeyUse(database, interval=timedelta(seconds=settings.key_use_write_interval))
    jwt_secret = (
        settings.jwt_secret.get_secret_value() if settings.jwt_secret else load_or_create_jwt_secret(settings.data_dir)
    )
    redis = Scripts(settings.redis_url) if settings.redis_url else None  # connects at its first use
    encryption_key = deployment_key(settings)
    outbox = install_outbox(database, settings, encryption_key)
    sender = Sender.from_settings(settings, database, outbox, sweeps=(remind_expiring_keys,)) if outbox else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        log_redaction.install()
        dummy_password_hash()  # made now, so the first login with an unknown email is not the slow one
        if sender is not None:
            sender.start()
        yield
        if sender is not None:
            await sender.stop()
        key_use.write()  # what this process counted of key use since its last write
        database.dispose()
        if redis is not None:
            await redis.close()

    app = FastAPI(
        title="Provenant API",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,  # api_docs.py serves Swagger UI from the installed package, under a CSP
        redoc_url=None,
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry would hand request bodies (passwords) and exception messages to
        # whatever processor is installed; secrets never leave this process. It also costs a check per request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.database = database
    app.state.jwt_secret = jwt_secret
    app.state.key_use = key_use  # what authenticating keys counts of their use (api_keys.key_use)
    app.state.attempt_limiter = AttemptLimiter.from_settings(settings, database, redis)
    app.state.rate_limiter = KeyRateLimiter.from_settings(redis, settings.redis_prefix)
    app.state.encryption_key = encryption_key
    # Issuers' signing keys, cached for the process; fetched under the outbound address rules.
    app.state.issuer_keys = IssuerKeys(AddressRules.of(settings.allowed_issuer_hosts))

    # The most requested first (who am I, agents, turn ingestion): routes are matched in order.
    routers = (
        health_router,
        readiness_router,
        accounts_router,
        agents_router,
        sessions_router,
        api_keys_router,
        leaked_router,
        team_router,
        invitation_links_router,
        audit_router,
        two_factor_router,
        org_settings_router,
        trust_router,
        exchange_router,
        sign_in_router,
        sso_config_router,
    )
    add_routes(app, routers)
    app.router.routes.extend(DOCS_ROUTES)
    install_dashboard(app)  # after every /api route: unknown /api paths still answer the JSON 404
    openapi.install(app)  # the bearer scheme and every error each route can answer
    app.add_exception_handler(ProvenantError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # Handled here, not only by the catch-all: a busy database is an answer (503), not a crash to re-raise.
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_middleware(UnitOfWorkMiddleware, database=database, commit_failed=_database_error)
    # Outermost of ours: the request's id, the API's headers, the body's size and what no request may carry;
    # CORS, when origins are listed, just inside it.
    cors = cors_options(settings.cors_origins) if settings.cors_origins else None
    app.add_middleware(RequestLayer, cors_options=cors)
    if settings.metrics:  # last: its middleware, outside every other, sees every answer
        metrics.install(app, database, pool_limit=settings.db_pool_size + settings.db_max_overflow)
    return app
