"""The databases tests run on: which ones, and a fresh one per test, copied from a template migrated once per run.

``PROVENANT_TEST_DATABASES`` names them, comma-separated: ``sqlite,postgresql`` by default; a machine
without PostgreSQL sets ``sqlite``. PostgreSQL is ``PROVENANT_TEST_POSTGRES_URL`` (default: user postgres,
database test on 127.0.0.1:5432), where each test gets a database of its own.

Running the Alembic upgrade for every test cost about as much as the rest of a short test. So each run
migrates one template per database, and a test gets a copy: a file copy on SQLite, ``CREATE DATABASE
... TEMPLATE`` on PostgreSQL.
"""

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

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


def _admin() -> Engine:
    # CREATE and DROP DATABASE cannot run inside a transaction.
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


@contextmanager
def postgres_database(*, template: str | None = None) -> Iterator[str]:
    """A database of its own for the block (empty, or a copy of ``template``), dropped afterwards."""
    name = f"provenant_test_{uuid.uuid4().hex[:16]}"
    admin = _admin()
    try:
        with admin.connect() as connection:
            # The names are made here, never from input.
            source = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{source}'))
        yield postgres_url(name)
    finally:
        with admin.connect() as connection:
            # FORCE: a server killed mid-test may leave a session PostgreSQL has not noticed yet.
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def postgres_template() -> Iterator[str]:
    """A migrated database to copy from, for this run only; yields its name."""
    with postgres_database() as url:
        migrated(url)
        yield str(make_url(url).database)
