"""Every test runs the real app on a fresh database of its own, migrated as `provenant serve` migrates it.

The app is built by create_app() and its schema by the Alembic migrations (once per run, then copied:
see tests/databases.py); auth in tests is the auth users get.

Which database: a test runs on SQLite, unless what it tests differs by dialect (locking, SQL written
per dialect, reconnects, migrations, concurrency, crash safety). Such a module says so in its first
lines, ``pytestmark = pytest.mark.both_databases`` (or marks only those of its tests), and its tests run
once on each database that ``PROVENANT_TEST_DATABASES`` names (both by default; ``sqlite`` without PostgreSQL).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from fastapi import FastAPI
from fastapi.testclient import TestClient

from provenant.accounts import passwords
from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database
from tests import databases
from tests.databases import POSTGRESQL, SQLITE
from tests.servers import LiveServer, serve
from tests.shared_tls import share_the_default_tls_context

pytest_plugins = ["tests.scheduling"]

_SELECTED = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    """Reads PROVENANT_TEST_DATABASES; a run that names PostgreSQL stops at once, saying what to do, when
    PostgreSQL is not there (checked once, by the main process when pytest-xdist runs the tests).
    Every httpx client made in this process shares one TLS context (tests/shared_tls.py)."""
    share_the_default_tls_context()
    try:
        config.stash[_SELECTED] = databases.selected()
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    is_xdist_worker = hasattr(config, "workerinput")
    if POSTGRESQL in config.stash[_SELECTED] and not is_xdist_worker and (problem := databases.postgres_problem()):
        raise pytest.UsageError(problem)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "dialect" not in metafunc.fixturenames:
        return
    selected = metafunc.config.stash[_SELECTED]
    if metafunc.definition.get_closest_marker("postgresql_only"):
        dialects = [POSTGRESQL]
    elif metafunc.definition.get_closest_marker("both_databases"):
        dialects = selected
    else:
        dialects = [SQLITE] if SQLITE in selected else selected[:1]
    metafunc.parametrize("dialect", dialects, indirect=True)


def _dialect_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("dialect") if callspec else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leaves out the tests of a database not selected: reported as deselected, never as passed or skipped."""
    selected = config.stash[_SELECTED]
    left_out = [item for item in items if _dialect_of(item) not in (None, *selected)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        dropped = set(left_out)
        items[:] = [item for item in items if item not in dropped]


@pytest.fixture
def dialect(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``: the database this test runs on (chosen by pytest_generate_tests)."""
    return str(request.param)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.make_sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres_copies() -> Iterator[databases.PostgresCopies]:
    copies = databases.PostgresCopies()
    yield copies
    copies.close()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, dialect: str, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own, at the latest revision: a SQLite file in the test's data
    directory, or a PostgreSQL database."""
    if dialect == SQLITE:
        yield databases.copy_sqlite(request.getfixturevalue("sqlite_template"), tmp_path / "data" / "provenant.db")
        return
    with request.getfixturevalue("postgres_copies").copy() as url:
        yield url


@pytest.fixture
def empty_database_url(dialect: str, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own with nothing in it, for tests of the migrations themselves."""
    if dialect == SQLITE:
        yield databases.sqlite_url(tmp_path / "empty" / "provenant.db")
        return
    with databases.postgres_database() as url:
        yield url


@pytest.fixture(autouse=True, scope="session")
def _cheapest_argon2_in_process() -> Iterator[None]:
    """The app inside the test process hashes with argon2-cffi's CHEAPEST parameters (its profile for
    tests): same argon2id code path, same hash format, microseconds instead of a quarter-second of
    CPU per sign-in, which was most of the suite's time. Servers started with ``serve()`` get the same
    patch (tests/cheap_argon2_serve.py); the freeze tests, which measure the server under the production
    hashing load, start theirs with ``production_argon2=True``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_password_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
        passwords.dummy_password_hash.cache_clear()  # unknown emails are checked against a hash made alike
        yield
    passwords.dummy_password_hash.cache_clear()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # Every test registers from the test client's one address, and property tests register an org per example:
    # the per-address registration limit is lifted here as on the test servers (tests/servers.py); the tests of
    # that limit set their own (tests/auth/test_attempt_races.py).
    return Settings(data_dir=tmp_path / "data", database_url=database_url, registrations_per_ip=1_000_000)


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    """The same database the app uses (at the latest revision), for tests that must look underneath."""
    db = Database(settings.resolved_database_url)
    yield db
    db.dispose()


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def live_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """`provenant serve` in a subprocess (with cheap argon2, as above), spoken to over real HTTP on loopback."""
    with serve(tmp_path, database_url) as server:
        yield server
