"""The metrics themselves (prometheus-client), the request middleware and ``GET /metrics``; imported only when
metrics are on (``provenant.metrics.install``).

Labels are taken from small fixed sets only: a route's template (``/api/agents/{agent_id}``, never the path a
client sent), a known method, a status, an error code, an email's result. So no label ever carries a key, a token,
an email or an id, and a client cannot grow the number of series by sending made-up paths or methods.

With ``--workers N`` each worker is a process of its own: ``provenant serve`` points ``PROMETHEUS_MULTIPROC_DIR``
at an emptied directory before any worker starts (``provenant.metrics.multiprocess``), every process writes its
values to files there (prometheus-client's multiprocess mode), and a scrape, answered by whichever worker gets it,
adds up all of them. Without it (the app made in-process, as the tests do) the values live in this process.
"""

import os
import platform
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from time import perf_counter
from typing import Any

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from sqlalchemy import event
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provenant import __version__
from provenant.db import Database
from provenant.metrics import PENDING_TURNS
from provenant.metrics.multiprocess import MULTIPROC_ENV

PATH = "/metrics"
# Anything else a client sends as a method is counted as "other": a label value per made-up method would not do.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of a request no route matched (a 404, or a 405)

REQUESTS = Counter(
    "provenant_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
DURATION = Histogram(
    "provenant_http_request_duration_seconds",
    "Seconds from a request's arrival to the end of its answer, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
AUTHENTICATION_FAILURES = Counter(
    "provenant_authentication_failures",
    "Requests refused for their credentials, by the answer's code (invalid_api_key, token_expired, "
    "invalid_credentials, too_many_attempts, ...).",
    ["code"],
)
TURNS_INGESTED = Counter(
    "provenant_turns_ingested", "Turns stored (committed); a resent turn the session already held is not counted."
)
EMAILS = Counter(
    "provenant_emails",
    "Emails handed to the SMTP server (sent), or refused by it or not delivered to it (failed).",
    ["result"],
)
POOL_IN_USE = Gauge(
    "provenant_db_pool_connections_in_use",
    "Database connections checked out of the pools (requests' transactions), across the server's processes.",
    multiprocess_mode="livesum",
)
POOL_LIMIT = Gauge(
    "provenant_db_pool_connections_limit",
    "The most connections the pools may hold (pool size + overflow, per process, summed): in use at this "
    "limit, requests answer 503 busy.",
    multiprocess_mode="livesum",
)
BUILD_INFO = Gauge(
    "provenant_build_info",
    "Always 1; its labels say which Provenant and which Python run.",
    ["version", "python"],
    multiprocess_mode="max",
)


def _committed(session: Session) -> None:
    stored = session.info.pop(PENDING_TURNS, 0)
    if stored:
        TURNS_INGESTED.inc(stored)


def _rolled_back(session: Session) -> None:
    session.info.pop(PENDING_TURNS, None)


class MetricsMiddleware:
    """Counts and times every HTTP request; the outermost middleware, so every answer is seen."""

    def __init__(self, app: ASGIApp, templates: dict[Any, str]) -> None:
        self.app = app
        # FastAPI's router names the route in the scope for its own routes only; the others (the dashboard, the
        # API docs, /metrics) are known by their endpoint, which every route puts in the scope.
        self._templates = templates
        # The label children by their values: prometheus-client's labels() takes a lock and builds a key per call.
        self._requests: dict[tuple[str, str, int], Callable[[], None]] = {}
        self._durations: dict[tuple[str, str], Callable[[float], None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        status = 500  # an exception that escapes every handler is answered 500 by Starlette, outside us

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            route = scope.get("route")
            template = route.path if route is not None else self._templates.get(scope.get("endpoint"), UNMATCHED)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            count = self._requests.get((template, method, status))
            if count is None:
                count = self._requests[(template, method, status)] = REQUESTS.labels(template, method, str(status)).inc
            observe = self._durations.get((template, method))
            if observe is None:
                observe = self._durations[(template, method)] = DURATION.labels(template, method).observe
            count()
            observe(perf_counter() - started)


def _exposition(_: Request) -> Response:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry  # this process's own, with its process_* metrics
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _watch_pool(database: Database, limit: int) -> None:
    engine = database.engine
    POOL_LIMIT.inc(limit)
    # The Reader's connection is checked out once and detached for good: it leaves the count when detached.
    event.listen(engine, "checkout", lambda *_: POOL_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: POOL_IN_USE.dec())
    event.listen(engine, "detach", lambda *_: POOL_IN_USE.dec())


_listening_to_sessions = False


def install(app: FastAPI, database: Database, pool_limit: int) -> None:
    """/metrics, the request middleware (outermost), the pool's gauges and the build information."""
    global _listening_to_sessions
    BUILD_INFO.labels(__version__, platform.python_version()).set(1)
    _watch_pool(database, pool_limit)
    if not _listening_to_sessions:  # class-wide listeners, once per process
        event.listen(Session, "after_commit", _committed)
        event.listen(Session, "after_rollback", _rolled_back)
        _listening_to_sessions = True
    # Before the dashboard's catch-all route, which would otherwise answer GET /metrics with its HTML.
    app.router.routes.insert(0, Route(PATH, _exposition, methods=["GET"], include_in_schema=False))
    templates = {route.endpoint: route.path for route in app.router.routes if isinstance(route, Route)}
    # create_app installs metrics last: this middleware is the outermost.
    app.add_middleware(MetricsMiddleware, templates=templates)

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            yield state
        POOL_LIMIT.dec(pool_limit)
        if os.environ.get(MULTIPROC_ENV):
            # A stopped worker's gauges leave the sums (a replaced worker writes its own).
            prometheus_multiprocess.mark_process_dead(os.getpid())

    app.router.lifespan_context = lifespan
