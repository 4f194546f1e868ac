"""Per-key rate limits: ``rateLimitPerMinute`` set at creation, kept by roll, shown on key objects; past it,
429 ``rate_limited`` with ``Retry-After`` and ``RateLimit-*``, counted in Redis (shared by every process) or
in the process's memory, never with a database write.

Minutes are wall-clock minutes: in-process tests travel (time-machine) to the start of one, so that no test
straddles two windows.
"""

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient

from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database
from tests.factories import Account, Client, audit_entries, bearer, register
from tests.servers import two_processes

REDIS_URL = "redis://127.0.0.1:6379/0"
RATE_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def create(client: Client, account: Account, **body: Any) -> httpx.Response:
    return client.post("/api/org/keys", json={"name": "limited", **body}, headers=account.headers)


def limited_key(client: Client, account: Account, per_minute: int) -> str:
    response = create(client, account, rateLimitPerMinute=per_minute)
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


@pytest.mark.both_databases
def test_the_limit_is_set_at_creation_shown_on_key_objects_and_kept_by_roll(client: TestClient) -> None:
    owner = register(client)
    created = create(client, owner, rateLimitPerMinute=120)
    assert created.status_code == 201, created.text
    assert created.json()["rateLimitPerMinute"] == 120
    unlimited = create(client, owner)
    assert unlimited.json()["rateLimitPerMinute"] is None
    assert create(client, owner, rateLimitPerMinute=None).json()["rateLimitPerMinute"] is None

    listed = {key["id"]: key["rateLimitPerMinute"] for key in client.get("/api/org/keys", headers=owner.headers).json()}
    assert listed[created.json()["id"]] == 120 and listed[unlimited.json()["id"]] is None

    rolled = client.post(f"/api/org/keys/{created.json()['id']}/roll", json={}, headers=owner.headers)
    assert rolled.status_code == 201, rolled.text
    assert rolled.json()["rateLimitPerMinute"] == 120
    [entry] = audit_entries(client, owner.headers, action="apikey.create", resourceId=created.json()["id"])
    assert entry["after"]["rateLimitPerMinute"] == 120

    schema = client.get("/api/openapi.json").json()["components"]["schemas"]
    assert "rateLimitPerMinute" in schema["ApiKeyCreate"]["properties"]
    assert "rateLimitPerMinute" in schema["ApiKeyRead"]["required"]


@pytest.mark.parametrize("value", [0, -1, 1_000_001, "60", 1.5, True, [], {}, 10**30])
def test_a_limit_out_of_range_or_not_an_integer_is_refused(client: TestClient, value: Any) -> None:
    owner = register(client)
    response = create(client, owner, rateLimitPerMinute=value)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert [detail["field"] for detail in response.json()["details"]] == ["rateLimitPerMinute"]


@pytest.mark.parametrize("value", [1, 1_000_000])
def test_the_bounds_are_accepted(client: TestClient, value: int) -> None:
    assert create(client, register(client), rateLimitPerMinute=value).json()["rateLimitPerMinute"] == value


@pytest.fixture(params=["process", "redis"])
def counted(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str, database: Database
) -> Iterator[TestClient]:
    """The app counting in its own memory, or in Redis under a prefix of this test's own; at second 5 of a minute."""
    extra = {} if request.param == "process" else {"redis_url": REDIS_URL, "redis_prefix": f"test-{uuid.uuid4().hex}:"}
    now = datetime.now(UTC)
    start_of_a_minute = now.replace(second=5, microsecond=0) + timedelta(minutes=1)
    with (
        time_machine.travel(start_of_a_minute, tick=True),
        TestClient(create_app(Settings(data_dir=tmp_path / "data", database_url=database_url, **extra))) as client,
    ):
        yield client


def test_past_its_limit_a_key_gets_429_rate_limited_until_the_minute_ends(counted: TestClient) -> None:
    owner = register(counted)
    key = bearer(limited_key(counted, owner, 3))
    for remaining in (2, 1, 0):
        response = counted.get("/api/auth/me", headers=key)
        assert response.status_code == 200, response.text
        assert response.headers["RateLimit-Limit"] == "3"
        assert response.headers["RateLimit-Remaining"] == str(remaining)
        assert 50 <= int(response.headers["RateLimit-Reset"]) <= 55
    for _ in range(2):  # every route, any method
        refused = counted.post("/api/agents", json={"name": "a", "slug": "a"}, headers=key)
        assert refused.status_code == 429, refused.text
        seconds = refused.headers["Retry-After"]
        assert refused.json() == {
            "error": f"This API key may make 3 requests a minute; try again in {seconds} seconds.",
            "code": "rate_limited",
        }
        assert refused.headers["RateLimit-Remaining"] == "0"
        assert refused.headers["Retry-After"] == refused.headers["RateLimit-Reset"]
    assert counted.get("/api/agents", headers=owner.headers).json() == []  # nothing was created

    # Other credentials of the same person are not limited by it; only a limited key's answers carry the headers.
    for headers in (owner.headers, bearer(create_key_without_limit(counted, owner))):
        response = counted.get("/api/auth/me", headers=headers)
        assert response.status_code == 200
        assert not any(name in response.headers for name in RATE_HEADERS)
    other = counted.get("/api/auth/me", headers=bearer(limited_key(counted, owner, 1)))
    assert other.status_code == 200 and other.headers["RateLimit-Remaining"] == "0"

    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=60), tick=True):
        again = counted.get("/api/auth/me", headers=key)
        assert again.status_code == 200 and again.headers["RateLimit-Remaining"] == "2"


def create_key_without_limit(client: Client, account: Account) -> str:
    return str(create(client, account).json()["key"])


def test_concurrent_requests_past_the_limit_are_refused(counted: TestClient) -> None:
    owner = register(counted)
    key = bearer(limited_key(counted, owner, 10))
    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = Counter(pool.map(lambda _: counted.get("/api/auth/me", headers=key).status_code, range(30)))
    assert answers == {200: 10, 429: 20}


def wait_for_a_fresh_minute(needed: float = 20) -> None:
    """Across real processes the clock cannot travel: wait, when the minute has less than ``needed`` s left."""
    left = 60 - time.time() % 60
    if left < needed:
        time.sleep(left + 0.1)


def test_the_count_is_shared_by_two_processes_through_redis(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANT_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("PROVENANT_REDIS_PREFIX", f"test-{uuid.uuid4().hex}:")
    with two_processes(tmp_path, database_url) as (first, second):
        owner = register(first)
        key = bearer(limited_key(first, owner, 6))
        wait_for_a_fresh_minute()
        answers = [process.get("/api/auth/me", headers=key) for process in (first, second) * 6]
    assert [answer.status_code for answer in answers] == [200] * 6 + [429] * 6
    assert [answer.headers["RateLimit-Remaining"] for answer in answers] == ["5", "4", "3", "2", "1", "0"] + ["0"] * 6
