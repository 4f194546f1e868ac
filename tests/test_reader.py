"""The Reader: the process's own autocommit connection for authentication and the agent list."""

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from provenant.db import Database
from tests.conftest import POSTGRES_URL


def test_a_read_sees_what_another_connection_committed_the_moment_before(database: Database) -> None:
    """No snapshot is kept between reads: a revocation committed by any process is seen at once."""
    with database.transaction() as session:
        session.execute(text("CREATE TABLE flags (name TEXT PRIMARY KEY, value INTEGER)"))
        session.execute(text("INSERT INTO flags VALUES ('revoked', 0)"))
    select = "SELECT value FROM flags WHERE name = 'revoked'"
    assert database.reader.fetchall(select, ()) == [(0,)]

    for value in (1, 2, 3):
        with database.transaction() as session:
            session.execute(text("UPDATE flags SET value = :value"), {"value": value})
        assert database.reader.fetchall(select, ()) == [(value,)]


def test_the_reader_holds_no_pooled_connection(database: Database) -> None:
    """Its connection is detached: autocommit never leaks into a pooled request transaction."""
    database.reader.fetchall("SELECT 1", ())
    assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_failing_statement_raises_and_the_reader_keeps_working(database: Database) -> None:
    with pytest.raises(Exception) as raised:
        database.reader.fetchall("SELECT * FROM no_such_table", ())
    assert isinstance(raised.value, database.reader.dialect.loaded_dbapi.Error)
    assert database.reader.fetchall("SELECT 1", ()) == [(1,)]


@pytest.fixture
def postgres() -> Iterator[Database]:
    db = Database(POSTGRES_URL)
    yield db
    db.dispose()


def test_a_read_after_the_database_dropped_the_connection_reconnects(postgres: Database) -> None:
    """A PostgreSQL restart or failover ends the reader's session; the next request must not fail."""
    (backend_pid,) = postgres.reader.fetchall("SELECT pg_backend_pid()", ())[0]
    with postgres.engine.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid}).scalar() is True

    ((new_pid,),) = postgres.reader.fetchall("SELECT pg_backend_pid()", ())
    assert new_pid != backend_pid


def test_a_statement_that_keeps_losing_its_connection_is_retried_once_then_raised(postgres: Database) -> None:
    suicide = "SELECT pg_terminate_backend(pg_backend_pid())"
    with pytest.raises(postgres.reader.dialect.loaded_dbapi.Error):
        postgres.reader.fetchall(suicide, ())
    assert postgres.reader.fetchall("SELECT 1", ()) == [(1,)]
