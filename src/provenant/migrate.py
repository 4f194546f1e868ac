"""Alembic, driven from code: ``provenant serve`` and ``provenant migrate`` bring the schema to head.

Several processes may start at once against one database (machines behind a load balancer, or
``--workers`` on several hosts): the upgrade runs whole in one transaction that first takes the
database's migration lock, so exactly one process migrates and the others then find the schema at
head. PostgreSQL: a transaction-level advisory lock. SQLite: the write lock (``BEGIN IMMEDIATE``),
which every writer of the file takes anyway.

Alembic is imported only to migrate: its import and a no-op upgrade cost a server start about 0.15 s
of CPU (an eighth of it), and a server usually starts on a database already at head, which
``is_at_head`` tells without Alembic.
"""

import ast
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from provenant.db import Database, is_busy, is_sqlite

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

# pg_advisory_xact_lock's key: any fixed 64-bit number, the same in every process. "provenan" in ASCII.
_POSTGRES_MIGRATION_LOCK = 0x70726F76656E616E
# How long a process waits for another one's migration before giving up (SQLite's busy_timeout).
_SQLITE_MIGRATION_WAIT_MS = 10 * 60 * 1000

log = logging.getLogger(__name__)


def alembic_config() -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config()
    with _migration_transaction(database) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def autogenerate(database: Database, message: str) -> None:
    """For developers: write a new revision from the difference between models.py and the database."""
    from alembic import command

    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


def is_at_head(database: Database) -> bool:
    """Whether the database records the newest revision, so that ``upgrade`` would change nothing."""
    head = _head_revision()
    if head is None:
        return False
    try:
        with database.engine.connect() as connection:
            recorded = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    except DBAPIError:
        return False  # never migrated (no alembic_version yet), or out of reach: ``upgrade`` says which
    return recorded == [head]


def _head_revision() -> str | None:
    """The one revision no other one revises, read from the scripts' literals; None when the scripts
    are anything but a plain line of revisions (a merge, a branch label, a dependency): Alembic decides."""
    revises: dict[str, str | None] = {}
    for script in (MIGRATIONS / "versions").glob("*.py"):
        if script.name == "__init__.py":
            continue
        declared = _declarations(script)
        revision, down_revision = declared.get("revision"), declared.get("down_revision", ...)
        if not isinstance(revision, str) or not (down_revision is None or isinstance(down_revision, str)):
            return None
        if declared.get("branch_labels", ...) is not None or declared.get("depends_on", ...) is not None:
            return None
        revises[revision] = down_revision
    heads = revises.keys() - revises.values()
    return heads.pop() if len(heads) == 1 else None


_DECLARED = ("revision", "down_revision", "branch_labels", "depends_on")


def _declarations(script: Path) -> dict[str, Any]:
    """A revision script's ``revision = "..."`` and the like, where the value is written out as a literal."""
    declared: dict[str, Any] = {}
    for statement in ast.parse(script.read_bytes()).body:
        target: ast.expr
        if isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in _DECLARED:
            try:
                declared[target.id] = ast.literal_eval(value)
            except ValueError:
                declared.pop(target.id, None)  # computed: only Alembic, running the script, can know it
    return declared


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
