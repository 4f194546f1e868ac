"""The migrations: on each database they build the schema provenant.models describes, and several servers
starting together on a fresh database migrate it exactly once (machines behind a load balancer)."""

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from provenant import migrate
from provenant.db import Database
from provenant.models import Base
from tests.servers import started

pytestmark = pytest.mark.both_databases

SERVERS = 4


@pytest.fixture
def empty_database(empty_database_url: str) -> Iterator[Database]:
    database = Database(empty_database_url)
    yield database
    database.dispose()


def head() -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return str(script.get_current_head())


def revisions_in(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def test_the_migrations_build_the_schema_that_models_py_describes(empty_database: Database) -> None:
    migrate.upgrade(empty_database)

    with empty_database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    assert revisions_in(empty_database) == [head()]


def test_upgrading_a_database_at_head_changes_nothing(empty_database: Database) -> None:
    migrate.upgrade(empty_database)
    migrate.upgrade(empty_database)
    assert revisions_in(empty_database) == [head()]


def test_servers_starting_together_on_a_fresh_database_migrate_it_once(
    tmp_path: Path, empty_database_url: str, empty_database: Database
) -> None:
    with ExitStack() as stack:
        servers = [stack.enter_context(started(tmp_path / f"server-{n}", empty_database_url)) for n in range(SERVERS)]
        for server in servers:
            server.wait_until_healthy()
        for server in servers:
            server.stop()
        logs = [server.log() for server in servers]

    assert revisions_in(empty_database) == [head()]
    first_revision = "Running upgrade  -> 0001"
    assert [first_revision in log for log in logs].count(True) == 1, "every server should find the schema made once"
    for log in logs:
        assert "Traceback" not in log and "ERROR" not in log, log
