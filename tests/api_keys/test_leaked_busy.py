"""A leaked-key report is answered before any key is looked up: with the API keys locked by another
connection past the lock timeout, the 202 still comes at once, and the revocation waits the lock out
rather than dropping the report. Each database locks in its own way."""

import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from provenant.db import Database, is_sqlite
from tests.factories import Account, register
from tests.servers import serve

# The revocation waits out each database's own lock; serial: it times answers to the second.
pytestmark = [pytest.mark.both_databases, pytest.mark.serial]

KEYS = "/api/org/keys"


def _listed(http: httpx.Client, account: Account, key_id: str) -> dict[str, Any]:
    keys = http.get(f"{KEYS}?includeRevoked=true", headers=account.headers).json()
    return dict(next(key for key in keys if key["id"] == key_id))


@contextmanager
def _keys_locked(database: Database) -> Iterator[None]:
    """Another connection holds the API keys table (SQLite: the write lock) past the lock timeout."""
    if is_sqlite(database.url):
        holder = sqlite3.connect(str(make_url(database.url).database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(database.url)
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(text("LOCK TABLE api_keys IN EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


def test_the_answer_does_not_wait_for_the_lookup_and_a_busy_database_is_waited_out(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    """Counters in Redis, so that nothing before the answer touches the database: while the keys are
    locked the 202 for a real key still comes at once, as it would for any other; the revocation follows."""
    env = {"PROVENANT_REDIS_URL": "redis://127.0.0.1:6379/0", "PROVENANT_REDIS_PREFIX": f"test-{uuid.uuid4().hex}:"}
    with serve(tmp_path, database_url, env=env) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        owner = register(http)
        created = http.post(KEYS, json={"name": "ci"}, headers=owner.headers).json()
        with _keys_locked(database):
            started = time.monotonic()
            answer = http.post("/api/keys/report-leaked", json={"keys": [created["key"]]})
            # The lock timeout is 1 s: an answer that waited for the lookup would take longer.
            assert time.monotonic() - started < 0.9
            assert (answer.status_code, answer.json()) == (202, {"received": 1})
            time.sleep(2.5)  # the revocation has tried and is waiting to try again
        deadline = time.monotonic() + 20
        while _listed(http, owner, created["id"])["revokedAt"] is None and time.monotonic() < deadline:
            time.sleep(0.25)
        assert _listed(http, owner, created["id"])["revokedReason"] == "leaked"
        assert "a leaked-key report waits for the database" in server.log()
        assert created["key"] not in server.log() and created["key"][8:] not in server.log()
