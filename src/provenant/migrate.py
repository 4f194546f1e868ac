"""Alembic, driven from code: ``provenant serve`` and ``provenant migrate`` bring the schema to head.

Several processes may start at once against one database (machines behind a load balancer, or
``--workers`` on several hosts): the upgrade runs whole in one transaction that first takes the
database's migration lock, so exactly one process migrates and the others then find the schema at
head. PostgreSQL: a transaction-level advisory lock. SQLite: the write lock (``BEGIN IMMEDIATE``),
which every writer of the file takes anyway.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from provenant.db import Database, is_busy, is_sqlite

MIGRATIONS = Path(__file__).parent / "migrations"

# pg_advisory_xact_lock's key: any fixed 64-bit number, the same in every process. "provenan" in ASCII.
_POSTGRES_MIGRATION_LOCK = 0x70726F76656E616E
# How long a process waits for another one's migration before giving up (SQLite's busy_timeout).
_SQLITE_MIGRATION_WAIT_MS = 10 * 60 * 1000

log = logging.getLogger(__name__)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    config = alembic_config()
    with _migration_transaction(database) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def autogenerate(database: Database, message: str) -> None:
    """For developers: write a new revision from the difference between provenant.models and the database."""
    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


@contextmanager
def _migration_transaction(database: Database) -> Iterator[Connection]:
    """One transaction holding the migration lock: committed when the block ends, else rolled back.
    Alembic runs inside it and so never commits on its own (it sees an external transaction)."""
    if is_sqlite(database.url):
        with _sqlite_migration_transaction(database) as connection:
            yield connection
        return
    with database.engine.begin() as connection:
        # The engine's lock_timeout (a request's bound) must not cut short the wait for another
        # process's migration, nor a migration's wait for the tables it alters.
        connection.execute(text("SET LOCAL lock_timeout = 0"))
        lock = {"key": _POSTGRES_MIGRATION_LOCK}
        if not connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), lock).scalar():
            log.info("Another process is migrating the database; waiting for it to finish")
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), lock)
        yield connection


@contextmanager
def _sqlite_migration_transaction(database: Database) -> Iterator[Connection]:
    # The engine's connections run in autocommit unless told otherwise (provenant.db): without an
    # explicit BEGIN, each DDL statement would commit alone, and two processes would interleave them.
    with database.engine.connect() as connection:
        # Foreign keys off for the upgrade, as SQLite's own recipe for altering tables says: a batch
        # migration drops and recreates a table, which must not cascade to the rows that point at it.
        # (The pragma is a no-op inside a transaction: it is set before BEGIN; checked before COMMIT.)
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        (busy_timeout,) = connection.exec_driver_sql("PRAGMA busy_timeout").one()
        try:
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except Exception as error:
                if not is_busy(error):
                    raise
                log.info("Another process is migrating the database; waiting for it to finish")
                connection.rollback()
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {_SQLITE_MIGRATION_WAIT_MS}")
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield connection
            violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if violations:
                raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {violations[:5]}")
            connection.commit()
        finally:
            connection.rollback()
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(busy_timeout)}")
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")
            connection.commit()
