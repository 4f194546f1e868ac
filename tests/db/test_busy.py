"""A busy database answers a fast 503 ``busy`` with ``Retry-After``, never a hang and never a 500.

Busy means: every pooled connection is in use (``PROVENANT_DB_POOL_SIZE`` + ``_MAX_OVERFLOW``), or
another process holds a lock past ``PROVENANT_DB_LOCK_TIMEOUT`` (SQLite's write lock, a PostgreSQL
row lock). Nothing of the refused request is stored, and the server goes on serving.
"""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database, is_sqlite
from tests.factories import register, unique

# Pool exhaustion and lock waits are each database's own; serial: it times answers to the second.
pytestmark = [pytest.mark.both_databases, pytest.mark.serial]

BOUND = 1.0  # seconds; normal is milliseconds


@pytest.fixture
def small_pool_client(tmp_path: Path, database_url: str, database: Database) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, db_pool_size=1, db_max_overflow=0, db_lock_timeout=0.2
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def assert_busy(response: object, elapsed: float) -> None:
    assert response.status_code == 503, response.text  # type: ignore[attr-defined]
    assert response.json()["code"] == "busy"  # type: ignore[attr-defined]
    assert response.headers["Retry-After"] == "1"  # type: ignore[attr-defined]
    assert elapsed < BOUND, f"the 503 took {elapsed:.2f} s"


def test_an_exhausted_pool_answers_503_busy_at_once(small_pool_client: TestClient) -> None:
    client = small_pool_client
    owner = register(client)
    name = unique("agent")
    assert client.get("/api/auth/me", headers=owner.headers).status_code == 200  # the Reader connects now
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    with database.engine.connect() as held:  # the pool's only connection
        held.execute(text("SELECT 1"))
        started = time.monotonic()
        response = client.post("/api/agents", json={"name": name, "slug": name}, headers=owner.headers)
        assert_busy(response, time.monotonic() - started)
        assert client.get("/api/health").status_code == 200
        assert client.get("/api/auth/me", headers=owner.headers).status_code == 200  # on the Reader

    names = [agent["name"] for agent in client.get("/api/agents", headers=owner.headers).json()]
    assert name not in names
    retried = client.post("/api/agents", json={"name": name, "slug": name}, headers=owner.headers)
    assert retried.status_code == 201, retried.text


def test_a_lock_held_by_another_process_answers_503_busy(small_pool_client: TestClient, database: Database) -> None:
    client = small_pool_client
    owner = register(client)
    email = f"{unique('invitee')}@example.com"
    with database.engine.connect() as other_process:
        # What another server process's transaction holds while it changes the org's membership.
        if is_sqlite(database.url):
            other_process.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            other_process.execute(text("SELECT id FROM orgs WHERE id = :id FOR UPDATE"), {"id": owner.org_id})
        started = time.monotonic()
        response = client.post("/api/org/invitations", json={"email": email, "role": "MEMBER"}, headers=owner.headers)
        assert_busy(response, time.monotonic() - started)
        other_process.rollback()

    assert client.get("/api/org/invitations", headers=owner.headers).json() == []
    retried = client.post("/api/org/invitations", json={"email": email, "role": "MEMBER"}, headers=owner.headers)
    assert retried.status_code == 201, retried.text


def test_pool_and_lock_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVENANT_DB_POOL_SIZE", "3")
    monkeypatch.setenv("PROVENANT_DB_MAX_OVERFLOW", "4")
    monkeypatch.setenv("PROVENANT_DB_POOL_TIMEOUT", "0.5")
    monkeypatch.setenv("PROVENANT_DB_LOCK_TIMEOUT", "2")
    settings = Settings()
    assert (settings.db_pool_size, settings.db_max_overflow) == (3, 4)
    assert (settings.db_pool_timeout, settings.db_lock_timeout) == (0.5, 2.0)
