"""Prometheus metrics at ``GET /metrics`` when ``PROVENANT_METRICS=true`` (docs/operations.md lists them).

What the rest of the code calls: ``record_email``, ``count_turns``, ``count_error``, each doing nothing while
metrics are off in this process. prometheus-client itself is imported only when they are on (``install``): it
costs a process about 40 ms to import, and the server starts often (tests, workers) with them off.
"""

from types import ModuleType
from typing import TYPE_CHECKING, Literal

from sqlalchemy.orm import Session

from provenant.errors import ProvenantError, TooManyAttempts, Unauthenticated

if TYPE_CHECKING:
    from fastapi import FastAPI

    from provenant.db import Database

# Session.info key: turns a request's transaction stored, counted once it commits (prometheus._committed).
PENDING_TURNS = "provenant_turns_pending"

_on: ModuleType | None = None  # the module holding the metrics, once installed in this process


def install(app: "FastAPI", database: "Database", pool_limit: int) -> None:
    """/metrics, the request middleware (outermost) and the database pool's gauges, on ``app``."""
    global _on
    from provenant.metrics import prometheus

    prometheus.install(app, database, pool_limit)
    _on = prometheus


def record_email(result: Literal["sent", "failed"]) -> None:
    """One email handed to the SMTP server ("sent"), or refused by it or not delivered to it ("failed")."""
    if result not in ("sent", "failed"):
        raise ValueError(f"an email's result is 'sent' or 'failed', not {result!r}")
    if _on is not None:
        _on.EMAILS.labels(result).inc()


def count_turns(session: Session, stored: int) -> None:
    """``stored`` turns are in ``session``'s transaction: they count as ingested if and when it commits."""
    if _on is not None and stored:
        info = session.info
        info[PENDING_TURNS] = info.get(PENDING_TURNS, 0) + stored


def count_error(error: ProvenantError) -> None:
    """A refusal of credentials (401, and 429 too_many_attempts) counts by its code; other errors do not."""
    if _on is not None and isinstance(error, Unauthenticated | TooManyAttempts):
        _on.AUTHENTICATION_FAILURES.labels(error.code).inc()
