"""The Reader: the process's own autocommit connection for authentication and the agent list."""

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from provenant.db import Database, is_unreachable
from tests.servers import free_port

pytestmark = pytest.mark.both_databases  # autocommit reads and reconnects are each driver's own


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
    """Raised as SQLAlchemy's error, as the pool's are: the app's one handler judges both alike."""
    with pytest.raises(DBAPIError) as raised:
        database.reader.fetchall("SELECT * FROM no_such_table", ())
    assert isinstance(raised.value.orig, database.reader.dialect.loaded_dbapi.Error)
    assert not is_unreachable(raised.value)  # a mistake, not an outage: a 500
    assert database.reader.fetchall("SELECT 1", ()) == [(1,)]


@pytest.mark.postgresql_only
def test_a_read_after_the_database_dropped_the_connection_reconnects(database: Database) -> None:
    """A PostgreSQL restart or failover ends the reader's session; the next request must not fail."""
    (backend_pid,) = database.reader.fetchall("SELECT pg_backend_pid()", ())[0]
    with database.engine.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid}).scalar() is True

    ((new_pid,),) = database.reader.fetchall("SELECT pg_backend_pid()", ())
    assert new_pid != backend_pid


@pytest.mark.postgresql_only
def test_a_statement_that_keeps_losing_its_connection_is_retried_once_then_raised(database: Database) -> None:
    suicide = "SELECT pg_terminate_backend(pg_backend_pid())"
    with pytest.raises(DBAPIError) as raised:
        database.reader.fetchall(suicide, ())
    assert is_unreachable(raised.value)  # answered 503 busy, which clients retry
    assert database.reader.fetchall("SELECT 1", ()) == [(1,)]


@pytest.mark.postgresql_only
def test_a_database_that_refuses_connections_is_unreachable_not_an_error(database: Database) -> None:
    """What a PostgreSQL restart looks like to a process between its stop and its start."""
    nobody_listens = make_url(database.url).set(port=free_port()).render_as_string(hide_password=False)
    away = Database(nobody_listens)
    try:
        with pytest.raises(DBAPIError) as through_the_reader:
            away.reader.fetchall("SELECT 1", ())
        with pytest.raises(DBAPIError) as through_the_pool, away.transaction() as session:
            session.execute(text("SELECT 1"))
    finally:
        away.dispose()
    assert is_unreachable(through_the_reader.value)
    assert is_unreachable(through_the_pool.value)
