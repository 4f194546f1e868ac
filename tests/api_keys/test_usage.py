"""GET /api/org/keys/{id}/usage: requests per UTC day, counted in memory and written every 30 s (by
default: PROVENANT_KEY_USE_WRITE_INTERVAL, 1 to 30), at a key's first use, and at shutdown; a write that
fails keeps its counts. On both databases: the counts are added with an upsert written per dialect."""

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from provenant.app import create_app
from provenant.config import Settings, get_settings
from provenant.db import Database, is_sqlite
from tests.factories import Account, add_member, bearer, register

pytestmark = pytest.mark.both_databases  # use counts are an upsert written per dialect

KEYS = "/api/org/keys"
START = datetime(2031, 5, 10, 9, 0, 0, tzinfo=UTC)


def _create(client: TestClient, account: Account, **body: Any) -> dict[str, Any]:
    response = client.post(KEYS, json={"name": "ci", **body}, headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _usage(client: TestClient, account: Account, key_id: str, **query: Any) -> list[dict[str, Any]]:
    response = client.get(f"{KEYS}/{key_id}/usage", params=query, headers=account.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def _counts(client: TestClient, account: Account, key_id: str, days: int = 3) -> list[int]:
    return [day["requests"] for day in _usage(client, account, key_id, days=days)]


def _use(client: TestClient, key: str, times: int = 1) -> None:
    for _ in range(times):
        assert client.get("/api/auth/me", headers=bearer(key)).status_code == 200


# --- the shape ------------------------------------------------------------------------------------


def test_thirty_utc_days_up_to_today_oldest_first_unused_days_as_zero(client: TestClient) -> None:
    with time_machine.travel(START, tick=False):
        owner = register(client)
        created = _create(client, owner)

        usage = _usage(client, owner, created["id"])

        assert len(usage) == 30
        first = START.date() - timedelta(days=29)
        assert [day["date"] for day in usage] == [(first + timedelta(days=n)).isoformat() for n in range(30)]
        assert all(set(day) == {"date", "requests"} and day["requests"] == 0 for day in usage)


@pytest.mark.parametrize("days", [1, 7, 90])
def test_days_from_1_to_90(client: TestClient, days: int) -> None:
    owner = register(client)
    created = _create(client, owner)
    usage = _usage(client, owner, created["id"], days=days)
    assert len(usage) == days
    assert usage[-1]["date"] == datetime.now(UTC).date().isoformat()


@pytest.mark.parametrize("days", [0, 91, -1, "week", 1.5])
def test_other_days_are_refused_naming_days(client: TestClient, days: Any) -> None:
    owner = register(client)
    created = _create(client, owner)
    response = client.get(f"{KEYS}/{created['id']}/usage", params={"days": days}, headers=owner.headers)
    assert response.status_code == 422, response.text
    assert [detail["field"] for detail in response.json()["details"]] == ["days"]


# --- who sees it ----------------------------------------------------------------------------------


def test_usage_is_visible_to_whoever_may_see_the_key(client: TestClient, database: Database) -> None:
    owner = register(client)
    admin = add_member(client, database, owner, "ADMIN")
    member = add_member(client, database, owner, "MEMBER")
    viewer = add_member(client, database, owner, "VIEWER")
    members_key = _create(client, member)

    for account in (owner, admin, member):
        assert client.get(f"{KEYS}/{members_key['id']}/usage", headers=account.headers).status_code == 200
    hidden = client.get(f"{KEYS}/{members_key['id']}/usage", headers=viewer.headers)
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "not_found"
    stranger = register(client)
    assert client.get(f"{KEYS}/{members_key['id']}/usage", headers=stranger.headers).status_code == 404
    assert client.get(f"{KEYS}/00000000-0000-0000-0000-000000000000/usage", headers=owner.headers).status_code == 404


def test_a_read_key_reads_its_usage_and_an_ingest_key_does_not(client: TestClient) -> None:
    owner = register(client)
    read = _create(client, owner, access="read")
    ingest = _create(client, owner, access="ingest")
    assert client.get(f"{KEYS}/{read['id']}/usage", headers=bearer(read["key"])).status_code == 200
    assert client.get(f"{KEYS}/{ingest['id']}/usage", headers=bearer(ingest["key"])).status_code == 403


# --- counting -------------------------------------------------------------------------------------


def test_the_first_use_shows_at_once_and_later_ones_within_30_seconds(client: TestClient) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        owner = register(client)
        created = _create(client, owner)

        _use(client, created["key"])
        assert _counts(client, owner, created["id"]) == [0, 0, 1]

        traveller.shift(timedelta(seconds=10))
        _use(client, created["key"], 5)
        assert _counts(client, owner, created["id"]) == [0, 0, 1]  # counted, not yet written

        traveller.shift(timedelta(seconds=30))
        _use(client, created["key"])
        assert _counts(client, owner, created["id"]) == [0, 0, 7]


def test_refused_and_failed_requests_with_a_working_key_count(app: FastAPI, database: Database) -> None:
    """The key was presented and recognised: a deployment that gets 403s is still using it."""
    with TestClient(app) as client:
        owner = register(client)
        viewer = add_member(client, database, owner, "VIEWER")
        created = _create(client, viewer)
        key = bearer(created["key"])
        assert client.post("/api/agents", json={"name": "bot", "slug": "bot"}, headers=key).status_code == 403
        assert client.get("/api/agents/not-an-agent", headers=key).status_code == 404
    with TestClient(app) as again:
        assert _counts(again, owner, created["id"], days=1) == [2]


def test_a_refused_key_and_a_jwt_count_nothing(client: TestClient) -> None:
    owner = register(client)
    created = _create(client, owner)
    client.get("/api/agents", headers=owner.headers)
    assert client.delete(f"{KEYS}/{created['id']}", headers=owner.headers).status_code == 200
    assert client.get("/api/agents", headers=bearer(created["key"])).status_code == 401
    assert _counts(client, owner, created["id"]) == [0, 0, 0]


def test_uses_are_counted_on_the_utc_day_they_happened(client: TestClient) -> None:
    before_midnight = datetime(2031, 5, 10, 23, 59, 50, tzinfo=UTC)
    with time_machine.travel(before_midnight, tick=False) as traveller:
        owner = register(client)
        created = _create(client, owner)
        _use(client, created["key"], 3)
        traveller.shift(timedelta(seconds=20))  # 00:00:10
        _use(client, created["key"], 2)
        traveller.shift(timedelta(seconds=30))
        _use(client, created["key"])
        usage = _usage(client, owner, created["id"], days=2)
    assert usage == [{"date": "2031-05-10", "requests": 3}, {"date": "2031-05-11", "requests": 3}]


def test_keys_are_counted_apart(app: FastAPI) -> None:
    with TestClient(app) as client:
        owner = register(client)
        first, second = _create(client, owner, name="first"), _create(client, owner, name="second")
        _use(client, first["key"], 4)
        _use(client, second["key"], 1)
    with TestClient(app) as again:
        assert _counts(again, owner, first["id"], days=1) == [4]
        assert _counts(again, owner, second["id"], days=1) == [1]


def test_a_clean_shutdown_loses_nothing_that_was_counted(app: FastAPI) -> None:
    with TestClient(app) as first_run:
        owner = register(first_run)
        created = _create(first_run, owner)
        _use(first_run, created["key"], 25)  # the first written at once, 24 left in memory
    with TestClient(app) as second_run:
        assert _counts(second_run, owner, created["id"], days=1) == [25]
        _use(second_run, created["key"], 5)
    with TestClient(app) as third_run:
        assert _counts(third_run, owner, created["id"], days=1) == [30]


# --- a write that fails -----------------------------------------------------------------------------


@contextmanager
def _usage_locked(database: Database) -> Iterator[None]:
    """Another connection holds what the write needs, longer than the lock timeout (1 s): SQLite's
    write lock, or on PostgreSQL the usage table itself."""
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
            connection.execute(text("LOCK TABLE api_key_usage IN EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


def test_a_write_that_fails_keeps_its_counts_and_fails_no_request(
    client: TestClient, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        owner = register(client)
        created = _create(client, owner)
        with _usage_locked(database), caplog.at_level(logging.WARNING):
            _use(client, created["key"], 3)  # the first use tries to write, and fails
        assert "key use not written" in caplog.text
        for secret in (created["key"], created["key"][8:]):
            assert secret not in caplog.text
        assert _counts(client, owner, created["id"]) == [0, 0, 0]

        traveller.shift(timedelta(seconds=31))
        _use(client, created["key"])

        assert _counts(client, owner, created["id"]) == [0, 0, 4]
        (listed,) = client.get(KEYS, headers=owner.headers).json()
        assert listed["lastUsedAt"] is not None


def test_the_lost_write_is_retried_30_seconds_later_not_at_every_request(
    client: TestClient, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """While the database refuses, requests do not each wait for it."""
    with time_machine.travel(START, tick=False) as traveller:
        owner = register(client)
        created = _create(client, owner)
        with _usage_locked(database), caplog.at_level(logging.WARNING):
            _use(client, created["key"])
            traveller.shift(timedelta(seconds=10))
            _use(client, created["key"], 5)
        assert caplog.text.count("key use not written") == 1
        traveller.shift(timedelta(seconds=25))
        _use(client, created["key"])
        assert _counts(client, owner, created["id"]) == [0, 0, 7]


# --- the write interval -------------------------------------------------------------------------------

INTERVAL = "PROVENANT_KEY_USE_WRITE_INTERVAL"


@pytest.mark.parametrize(("value", "seconds"), [(None, 30), ("1", 1), ("2.5", 2.5), ("30", 30)])
def test_the_write_interval_is_30_seconds_unless_set_from_1_to_30(
    monkeypatch: pytest.MonkeyPatch, value: str | None, seconds: float
) -> None:
    if value is None:
        monkeypatch.delenv(INTERVAL, raising=False)
    else:
        monkeypatch.setenv(INTERVAL, value)
    assert Settings().key_use_write_interval == seconds


@pytest.mark.parametrize("value", ["0", "0.5", "31", "60", "nan", "-1"])
def test_a_write_interval_the_promise_cannot_keep_stops_the_server_saying_why(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(INTERVAL, value)
    with pytest.raises(SystemExit) as stopped:
        get_settings.__wrapped__()  # what `provenant serve` reads first, without this process's cached settings
    message = str(stopped.value)
    assert f"{INTERVAL}: " in message and "between 1 and 30 seconds" in message, message
    assert "promised within a minute" in message, message


def test_a_configured_write_interval_is_the_one_waited(settings: Settings) -> None:
    every_5_seconds = Settings(data_dir=settings.data_dir, database_url=settings.database_url, key_use_write_interval=5)
    with time_machine.travel(START, tick=False) as traveller, TestClient(create_app(every_5_seconds)) as client:
        owner = register(client)
        created = _create(client, owner)
        _use(client, created["key"])
        traveller.shift(timedelta(seconds=2))
        _use(client, created["key"], 5)
        traveller.shift(timedelta(seconds=2))
        _use(client, created["key"])
        assert _counts(client, owner, created["id"]) == [0, 0, 1]  # the stored lastUsedAt is 4 s old

        traveller.shift(timedelta(seconds=1))
        _use(client, created["key"])

        assert _counts(client, owner, created["id"]) == [0, 0, 8]  # 5 s old: written, not 30 s later


def test_usage_dates_are_iso_dates(client: TestClient) -> None:
    owner = register(client)
    created = _create(client, owner)
    for day in _usage(client, owner, created["id"], days=2):
        assert date.fromisoformat(day["date"]).isoformat() == day["date"]
