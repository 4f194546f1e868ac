"""The engine; the unit of work (one connection and one session per request, committed once);
and the reader, a connection of its own for the hot single-statement reads.

Route handlers are ``async def`` and talk to the database through a synchronous SQLAlchemy
session, inline on the event loop. Each request is one short transaction of a few indexed
statements (tens of microseconds on SQLite, one loopback round trip on PostgreSQL), which is
cheaper than the thread hop FastAPI would add for every sync dependency; scale-out is by worker
processes. Work that can run long (the audit export) streams in bounded pages, on one connection it checks out
before its response starts.

The rule that keeps the event loop free: a transaction begins and commits within one turn of the
loop. No ``await`` separates a request's first statement from its commit (slow work such as
password hashing runs in a thread *before* the first statement), so inside a process no request
ever waits for a connection or a lock that another request on the same loop holds. What is left is
waiting for other processes, bounded by ``lock_timeout``; and a pool with no free connection, which
answers 503 ``busy`` at once rather than making the loop wait (see ``is_busy``).

A database that cannot be reached for a moment (a PostgreSQL restart or failover) answers the same 503
``busy`` (see ``is_unreachable``), and service resumes with the first request after it is back: a
connection is pinged as it leaves the pool, and a lost one is replaced, as are all others of its age.
"""

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Dialect, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolProxiedConnection

WRITES_OPTION = "provenant_writes"
_POSTGRES_LOCK_NOT_AVAILABLE = "55P03"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """How many connections a process keeps and how long a request may wait (see Settings)."""

    size: int = 10
    max_overflow: int = 10
    timeout: float = 0.0
    lock_timeout: float = 1.0


def is_busy(error: BaseException) -> bool:
    """Whether a request failed only because the database was busy: no free connection in the pool,
    or a lock another process held past ``lock_timeout``. Worth a retry, never a 500."""
    if isinstance(error, PoolTimeout):
        return True
    if isinstance(error, OperationalError):
        message = str(error.orig).lower()
        if "database is locked" in message or "database is busy" in message:
            return True
    if isinstance(error, DBAPIError):
        return getattr(error.orig, "sqlstate", None) == _POSTGRES_LOCK_NOT_AVAILABLE
    return False


def is_unreachable(error: BaseException) -> bool:
    """Whether a request failed because the database could not be reached: its connection was lost
    mid-statement (as SQLAlchemy judges it), or a new one could not be made (refused, the server
    starting up or shutting down: see ``_connect_failure_is_a_disconnect``). Worth a retry, never a 500."""
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _connect_failure_is_a_disconnect(context: ExceptionContext) -> None:
    # SQLAlchemy flags a connection lost mid-statement, not a connection that could not be made; for a
    # request both mean the same: the database is away for now. (psycopg gives neither an SQLSTATE.)
    if context.connection is None and isinstance(
        context.original_exception, context.dialect.loaded_dbapi.OperationalError
    ):
        context.is_disconnect = True


def build_engine(url: str, pool: PoolOptions | None = None) -> Engine:
    pool = pool or PoolOptions()
    options: dict[str, Any] = {
        "pool_size": pool.size,
        "max_overflow": pool.max_overflow,
        "pool_timeout": pool.timeout,
        # A failing statement's error (and so the log of a 500) must not carry its values: they
        # can be a key's hash, an email, a conversation.
        "hide_parameters": True,
    }
    lock_timeout_ms = max(1, round(pool.lock_timeout * 1000))
    if not is_sqlite(url):
        # pre_ping: a connection that a restart ended is found as it leaves the pool, and replaced.
        engine = create_engine(url, pool_pre_ping=True, **options)
        event.listen(engine, "handle_error", _connect_failure_is_a_disconnect)

        @event.listens_for(engine, "connect")
        def _configure_postgres(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = {lock_timeout_ms}")
            dbapi_connection.commit()  # a SET in a transaction rolled back on check-in would be undone

        return engine

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False}, **options)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions start (see "begin").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a revoke that was answered survives a power cut.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={lock_timeout_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A transaction that will write takes the write lock up front (IMMEDIATE): a deferred one
        # that read first could not upgrade once another connection had committed (SQLITE_BUSY).
        # A read-only request runs its statements in autocommit: skipping BEGIN/COMMIT is measurable
        # on the hot read paths, and its reads need no snapshot across statements.
        if connection.get_execution_options().get(WRITES_OPTION, False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    def __init__(self, url: str, pool: PoolOptions | None = None) -> None:
        self.url = url
        self.engine = build_engine(url, pool)
        # The same pool; transactions begun through it are declared as writing (see _begin).
        self.write_engine = self.engine.execution_options(**{WRITES_OPTION: True})
        self.reader = Reader(self.engine)
        # Put in the info of every session this database makes (the email outbox of the process).
        self.session_info: dict[str, Any] = {}

    @contextmanager
    def transaction(self, *, writes: bool = True) -> Iterator[Session]:
        """One unit of work of its own, outside the request's: commits when the block ends normally,
        rolls back otherwise. For the reads a request makes before it awaits slow work (so that no
        connection is held across the wait), and for the few writes that must outlive a failed
        request (a failed sign-in's audit entry)."""
        work = UnitOfWork(self, writes=writes)
        succeeded = False
        try:
            yield work.session
            succeeded = True
        finally:
            work.finish(commit=succeeded)

    def dispose(self) -> None:
        self.reader.close()
        self.engine.dispose()


class Reader:
    """A connection of the process's own, in autocommit, for the single-statement reads every
    request makes (the key or user behind a bearer token) and the agent list (see provenant.hot_path_sql).

    Checking a connection out of the pool and back in for them cost about as much as the indexed
    query itself. Autocommit keeps no snapshot between reads: each one sees everything committed
    before it started, so a revocation answered by any process is seen by the next request here.
    A read runs whole under a lock (never interleaved, from any thread), and one that finds the
    connection dropped (a database restart) reconnects and runs once more. Its errors are
    SQLAlchemy's, as the pool's are, so that one handler judges them all (``is_busy``, ``is_unreachable``).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.dialect: Dialect = engine.dialect
        self._lock = threading.Lock()
        self._connection: PoolProxiedConnection | None = None

    def _connect(self) -> PoolProxiedConnection:
        # Through a Connection rather than raw_connection(): a failure to connect is raised as the pool's
        # other failures are (and judged by _connect_failure_is_a_disconnect).
        with_events = self._engine.connect()
        with_events.detach()  # ours for good: with autocommit set, it must never serve a transaction
        connection = with_events.connection
        dbapi_connection = connection.dbapi_connection
        assert dbapi_connection is not None  # just checked out
        self.dialect.set_isolation_level(dbapi_connection, "AUTOCOMMIT")
        self._connection = connection
        return connection

    def fetchall(self, sql: str, arguments: Sequence[Any] | dict[str, Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._fetchall(sql, arguments)
            except self.dialect.loaded_dbapi.Error as error:
                if not self._lost(error):
                    raise self._wrapped(error, sql) from error
                self._close(lost=True)
            try:
                return self._fetchall(sql, arguments)
            except self.dialect.loaded_dbapi.Error as error:
                lost = self._lost(error)
                if lost:
                    self._close(lost=True)
                raise self._wrapped(error, sql, lost=lost) from error

    def _fetchall(self, sql: str, arguments: Sequence[Any] | dict[str, Any]) -> list[tuple[Any, ...]]:
        cursor = (self._connection or self._connect()).cursor()
        try:
            cursor.execute(sql, arguments)
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def _lost(self, error: Any) -> bool:
        connection = self._connection
        return connection is not None and self.dialect.is_disconnect(error, connection.dbapi_connection, None)

    def _wrapped(self, error: Exception, sql: str, *, lost: bool = False) -> StatementError:
        return DBAPIError.instance(
            sql,
            None,  # the values are never shown (as the engine's hide_parameters)
            error,
            self.dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=self.dialect,
        )

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self, *, lost: bool = False) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with suppress(self.dialect.loaded_dbapi.Error):  # already gone: nothing to release
            if lost:
                # Closed outright: the pool's close would first roll back on the dead connection, fail,
                # and log that as an error (with a traceback) in the middle of a database restart.
                assert connection.dbapi_connection is not None
                connection.dbapi_connection.close()
                connection.invalidate()
            else:
                connection.close()


class UnitOfWork:
    """One request's database work: one ORM session, made on first use, which checks a connection
    out (and on SQLite, for a writing request, takes the write lock) only at its first statement;
    committed or rolled back once, by ``finish``.

    A request that only reads through the Reader never checks a connection out at all, and one that
    awaits slow work before its first statement holds nothing while it waits.
    """

    __slots__ = ("_database", "_session", "writes")

    def __init__(self, database: "Database", *, writes: bool) -> None:
        self._database = database
        self.writes = writes
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            engine = self._database.write_engine if self.writes else self._database.engine
            self._session = Session(bind=engine, expire_on_commit=False, info=dict(self._database.session_info))
        return self._session

    def finish(self, *, commit: bool) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if commit:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()
