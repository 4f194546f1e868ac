"""``GET /api/ready``: whether this process can serve, for a load balancer or an orchestrator's readiness check.

``/api/health`` answers 200 as long as the process runs (liveness: restart me if not). ``/api/ready`` answers 503
while the database, or Redis when ``PROVENANT_REDIS_URL`` is set, cannot be reached (take me out of rotation, but do
not restart me: the fault is elsewhere), and 200 otherwise.

Each check opens a connection of its own with a short timeout, in a thread: a database that does not answer makes
the probe wait at most ``TIMEOUT`` seconds, never the event loop, and the pool that requests use is neither
emptied nor needed (a busy server is still ready). The route needs no credentials, so a flood of calls must not
become a flood of connections: one check runs at a time and its answer serves every call for ``FRESH_FOR``.
"""

import asyncio
import logging
import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import Engine, NullPool, create_engine, text

from provenant.config import Settings
from provenant.db import is_sqlite
from provenant.errors import error_response

TIMEOUT = 2.0  # seconds a check may take before its dependency counts as unreachable
FRESH_FOR = 1.0  # seconds a result answers further calls

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


class Readiness:
    def __init__(self, settings: Settings) -> None:
        self._database_url = settings.resolved_database_url
        self._redis_url = settings.redis_url
        self._engine: Engine | None = None
        self._redis: Any = None
        self._lock = asyncio.Lock()
        self._checked_at = -FRESH_FOR
        self._results: dict[str, bool] = {}

    async def check(self) -> dict[str, bool]:
        """Each dependency and whether it answered, from a check at most ``FRESH_FOR`` seconds old."""
        async with self._lock:
            if self._engine is None:
                # Made once, in a thread and outside the timeout: importing the Redis client alone took 2 s of a
                # loaded machine's time, which is not the dependency's.
                await asyncio.to_thread(self.prepare)
            if time.monotonic() - self._checked_at >= FRESH_FOR:
                checks = {"database": self.database_answers}
                if self._redis_url:
                    checks["redis"] = self.redis_answers
                answers = await asyncio.gather(*(self._within_timeout(name, probe) for name, probe in checks.items()))
                self._results = dict(zip(checks, answers, strict=True))
                self._checked_at = time.monotonic()
            return self._results

    async def _within_timeout(self, name: str, probe: Any) -> bool:
        was_up = self._results.get(name, True)
        try:
            await asyncio.wait_for(asyncio.to_thread(probe), TIMEOUT)
        except Exception as error:
            if was_up:  # logged when it goes, and when it comes back: not at every probe
                reason = "no answer in time" if isinstance(error, TimeoutError) else f"{type(error).__name__}: {error}"
                logger.warning("not ready: the %s cannot be reached (%s)", name, reason)
            return False
        if not was_up:
            logger.warning("ready again: the %s answers", name)
        return True

    def prepare(self) -> None:
        """The engine and the Redis client the checks use (they connect only when a check runs)."""
        if self._redis_url and self._redis is None:
            import redis  # only when configured, as in auth.attempts

            self._redis = redis.Redis.from_url(self._redis_url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        if self._engine is None:
            # NullPool: a connection of its own each time, closed at once; the timeouts bound connecting and the
            # statement (psycopg's connect_timeout is whole seconds).
            seconds = max(1, int(TIMEOUT))
            connect_args: dict[str, Any] = (
                {"timeout": TIMEOUT}
                if is_sqlite(self._database_url)
                else {"connect_timeout": seconds, "options": f"-c statement_timeout={seconds * 1000}"}
            )
            self._engine = create_engine(self._database_url, poolclass=NullPool, connect_args=connect_args)

    def database_answers(self) -> None:
        self.prepare()
        assert self._engine is not None
        with self._engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def redis_answers(self) -> None:
        self.prepare()
        self._redis.ping()


def _readiness(request: Request) -> Readiness:
    state = request.app.state
    readiness: Readiness | None = getattr(state, "readiness", None)
    if readiness is None:
        readiness = state.readiness = Readiness(state.settings)
    return readiness


class Ready(BaseModel):
    status: Literal["ready"]
    checks: dict[str, Literal["ok"]]


@router.get("/api/ready", response_model=Ready)
async def ready(request: Request) -> Any:
    """200 when the database (and Redis, when configured) answers; 503 ``not_ready`` while one does not.
    Needs no credentials. ``checks`` maps each dependency to ``"ok"`` or ``"unreachable"``."""
    results = await _readiness(request).check()
    checks = {name: "ok" if up else "unreachable" for name, up in results.items()}
    if all(results.values()):
        return {"status": "ready", "checks": checks}
    down = " and ".join(name for name, up in results.items() if not up)
    return error_response(503, f"Not ready: the {down} cannot be reached.", "not_ready", checks=checks)
