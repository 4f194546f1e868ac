"""The databases tests run on: which ones, and a fresh one per test, copied from a template migrated once per run.

``PROVENANT_TEST_DATABASES`` names them, comma-separated: ``sqlite,postgresql`` by default; a machine
without PostgreSQL sets ``sqlite``. PostgreSQL is ``PROVENANT_TEST_POSTGRES_URL`` (default: user postgres,
database test on 127.0.0.1:5432), where each test gets a database of its own.

Running the Alembic upgrade for every test cost about as much as the rest of a short test. So each run
migrates one template per database, and a test gets a copy: a file copy on SQLite; on PostgreSQL a
``CREATE DATABASE ... TEMPLATE``, emptied after the test and handed to the next (``PostgresCopies``).
"""

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from provenant import migrate
from provenant.db import Database

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
KNOWN = (SQLITE, POSTGRESQL)
SELECTION_VARIABLE = "PROVENANT_TEST_DATABASES"

POSTGRES_URL = os.environ.get("PROVENANT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def selected() -> list[str]:
    """The databases this run tests on, in the order named; a name outside ``KNOWN`` is a usage error."""
    names = [name.strip().lower() for name in os.environ.get(SELECTION_VARIABLE, "sqlite,postgresql").split(",")]
    names = [name for name in names if name]
    unknown = sorted(set(names) - set(KNOWN))
    if unknown or not names:
        raise ValueError(f"{SELECTION_VARIABLE}={os.environ.get(SELECTION_VARIABLE)!r}: name one or both of {KNOWN}")
    return list(dict.fromkeys(names))


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used for this run, said so that the reader knows what to do; None if it can."""
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        return (
            f"PostgreSQL is not reachable at {make_url(POSTGRES_URL).render_as_string()} ({error.orig}).\n"
            f"Start it (or point PROVENANT_TEST_POSTGRES_URL at one), or test on SQLite alone: "
            f"{SELECTION_VARIABLE}=sqlite"
        )
    finally:
        engine.dispose()
    return None


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def migrated(url: str) -> None:
    database = Database(url)
    try:
        migrate.upgrade(database)
    finally:
        database.dispose()


# --- SQLite: a file ---------------------------------------------------------------------------------


def make_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    migrated(sqlite_url(path))
    # Closing the last connection checkpointed the WAL into the file: the file alone is the database.
    assert not path.with_name(path.name + "-wal").exists(), "the template's WAL was not checkpointed"
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    return path


def copy_sqlite(template: Path, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    return sqlite_url(path)


# --- PostgreSQL: a database per test on one server ----------------------------------------------------


def postgres_url(database: str) -> str:
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


@cache
def _admin() -> Engine:
    # CREATE and DROP DATABASE cannot run inside a transaction. One engine a process: connecting (and
    # SQLAlchemy's first-connect queries) cost as much as the CREATE DATABASE itself.
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


def _create(name: str, *, template: str | None = None) -> None:
    # The names are made here, never from input.
    source = f' TEMPLATE "{template}"' if template else ""
    with _admin().connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{source}'))


def _drop(name: str) -> None:
    with _admin().connect() as connection:
        # FORCE: a server killed mid-test may leave a session PostgreSQL has not noticed yet.
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _new_name() -> str:
    return f"provenant_test_{uuid.uuid4().hex[:16]}"


@contextmanager
def postgres_database() -> Iterator[str]:
    """An empty database of its own for the block, dropped afterwards."""
    name = _new_name()
    _create(name)
    try:
        yield postgres_url(name)
    finally:
        _drop(name)


# Everything a test could change in a database's schema: each relation (table, index, sequence, view...)
# with its columns, constraints, triggers and functions, and the migration it is at.
_SCHEMA = text("""
    WITH ours AS (SELECT oid FROM pg_namespace
                  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_toast%')
    SELECT md5(string_agg(part, ',' ORDER BY part)) || ':' || (SELECT string_agg(version_num, ',') FROM alembic_version)
    FROM (
        SELECT concat_ws(':', c.relnamespace::regnamespace::text, c.relname, c.relkind::text, a.attname,
                         format_type(a.atttypid, a.atttypmod), a.attnotnull::text) AS part
        FROM pg_class c
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relnamespace IN (SELECT oid FROM ours)
        UNION ALL
        SELECT concat_ws(':', conrelid::regclass::text, conname, pg_get_constraintdef(oid))
        FROM pg_constraint WHERE connamespace IN (SELECT oid FROM ours)
        UNION ALL
        SELECT concat_ws(':', tgrelid::regclass::text, tgname) FROM pg_trigger WHERE NOT tgisinternal
        UNION ALL
        SELECT oid::regprocedure::text FROM pg_proc WHERE pronamespace IN (SELECT oid FROM ours)
    ) parts
""")
_TABLES = text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
_END_OTHER_SESSIONS = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
)


class PostgresCopies:
    """Databases at the latest revision, a test's own while it runs: copies of a template migrated once.

    ``CREATE DATABASE ... TEMPLATE`` costs about a fifth of a second of PostgreSQL's CPU (it copies the
    system catalogs too), most of a short test's time. So a copy a test is done with is emptied and handed to
    the next test: its sessions are ended and its tables truncated, which leaves it as the template is (no
    migration writes rows). A copy whose schema is no longer the template's (a test dropped or added a table)
    is dropped instead, as is one that cannot be emptied.
    """

    def __init__(self) -> None:
        self.template = _new_name()
        _create(self.template)
        migrated(postgres_url(self.template))
        self._schema, self._tables = self._read_schema(self.template)
        self._free: list[str] = []

    @contextmanager
    def copy(self) -> Iterator[str]:
        name = self._free.pop() if self._free else self._copied()
        try:
            yield postgres_url(name)
        finally:
            if self._emptied(name):
                self._free.append(name)
            else:
                _drop(name)

    def close(self) -> None:
        for name in [*self._free, self.template]:
            _drop(name)
        self._free.clear()

    def _copied(self) -> str:
        name = _new_name()
        _create(name, template=self.template)
        return name

    def _read_schema(self, name: str) -> tuple[str, list[str]]:
        # NullPool: no connection stays open to the template, which CREATE DATABASE ... TEMPLATE refuses.
        engine = create_engine(postgres_url(name), poolclass=NullPool)
        try:
            with engine.connect() as connection:
                return connection.execute(_SCHEMA).scalar_one(), list(connection.execute(_TABLES).scalars())
        finally:
            engine.dispose()

    def _emptied(self, name: str) -> bool:
        with _admin().connect() as connection:
            connection.execute(_END_OTHER_SESSIONS, {"name": name})
        engine = create_engine(postgres_url(name), poolclass=NullPool)
        try:
            with engine.begin() as connection:
                if connection.execute(_SCHEMA).scalar_one() != self._schema:
                    return False
                connection.execute(text("TRUNCATE " + ", ".join(f'"{table}"' for table in self._tables)))
            return True
        except DBAPIError:
            return False
        finally:
            engine.dispose()
