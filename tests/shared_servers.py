"""Servers a module's tests share: one per module and database, started once instead of once per test.

Starting `provenant serve` costs 1.5-2 s of CPU a process (``--workers N`` is N+1 processes), more than
most tests that race requests against it. Where each test makes an org of its own (and its keys, agents,
sessions), tests cannot see each other's data, so they can share a server and its database.

A module imports the fixtures it uses and those they use (pytest sees a module's own names, conftest's
and plugins'), ``dialect`` always among them. pytest knows each by the name it declares
(``two_workers_fixture`` is ``two_workers``), so that a test's argument does not shadow an import::

    from tests.shared_servers import (  # noqa: F401 - fixtures, found by pytest
        dialect_fixture,
        shared_database_url_fixture,
        two_workers_fixture,
    )

``dialect`` replaces conftest's for that module with a module-scoped one: conftest still chooses the
databases (``both_databases``, ``PROVENANT_TEST_DATABASES``), and pytest then runs the module's tests
database by database, so each shared server starts once per database. The module's other tests keep a
database of their own each (conftest's ``database_url``, ``client``...).
"""

from collections.abc import Iterator

import pytest

from provenant.db import Database
from tests import databases
from tests.databases import SQLITE
from tests.servers import LiveServer, serve


@pytest.fixture(scope="module", name="dialect")
def dialect_fixture(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``, chosen by conftest's pytest_generate_tests; module-scoped (see above)."""
    return str(request.param)


@pytest.fixture(scope="module", name="shared_database_url")
def shared_database_url_fixture(
    request: pytest.FixtureRequest, dialect: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The database the module's shared servers serve, at the latest revision (as conftest's ``database_url``)."""
    if dialect == SQLITE:
        directory = tmp_path_factory.mktemp("shared-database")
        yield databases.copy_sqlite(request.getfixturevalue("sqlite_template"), directory / "provenant.db")
        return
    with request.getfixturevalue("postgres_copies").copy() as url:
        yield url


@pytest.fixture(scope="module", name="shared_database")
def shared_database_fixture(shared_database_url: str) -> Iterator[Database]:
    """The shared servers' database, for tests that must look underneath."""
    database = Database(shared_database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="module", name="two_workers")
def two_workers_fixture(shared_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`provenant serve --workers 2`: requests sent together really run at once, in two processes. Its URL."""
    with serve(tmp_path_factory.mktemp("two-workers"), shared_database_url, workers=2) as server:
        yield server.url


@pytest.fixture(scope="module", name="one_process")
def one_process_fixture(shared_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`provenant serve`: one process."""
    with serve(tmp_path_factory.mktemp("one-process"), shared_database_url) as server:
        yield server


@pytest.fixture(scope="module", name="another_process")
def another_process_fixture(shared_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second `provenant serve` on the same database, as a second machine behind a load balancer would be:
    a request sent to it is known to run in another process than one sent to ``one_process``."""
    with serve(tmp_path_factory.mktemp("another-process"), shared_database_url) as server:
        yield server
