"""Concurrency cannot walk through the guessing limits: an attempt is counted before its password is
checked, so however many are sent at once, in one process or several, at most the limit of them are
checked in a window; the others get 429 without a hash, the right password among them too.

Run with the counters in the database (SQLite and PostgreSQL) and in Redis.
"""

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database
from provenant.models import Org
from tests.factories import PASSWORD, register, unique
from tests.servers import two_processes

pytestmark = pytest.mark.both_databases  # the counters are upserts written per dialect

REDIS_URL = "redis://127.0.0.1:6379/0"
PER_ACCOUNT = 3
REGISTRATIONS = 4
LIMITS = {
    "sign_in_failures_per_account": PER_ACCOUNT,
    "sign_in_failures_per_ip": 1000,
    "registrations_per_ip": REGISTRATIONS,
}
CONCURRENT = 30


@pytest.fixture(params=["database", "redis"])
def counters(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "database":
        return {}
    return {"redis_url": REDIS_URL, "redis_prefix": f"test-{uuid.uuid4().hex}:"}


@pytest.fixture
def limited(tmp_path: Path, database_url: str, database: Database, counters: dict[str, Any]) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, **LIMITS, **counters)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Every call started together, from threads (TestClient hands each to the app's one event loop)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def statuses(responses: list[httpx.Response]) -> Counter[tuple[int, str]]:
    return Counter((response.status_code, response.json().get("code", "")) for response in responses)


def sign_in(client: TestClient | httpx.Client, email: str, password: str) -> Callable[[], httpx.Response]:
    return lambda: client.post("/api/auth/login", json={"email": email, "password": password})


def test_concurrent_wrong_passwords_are_checked_at_most_the_limit_times(limited: TestClient) -> None:
    owner = register(limited)
    answers = statuses(at_once([sign_in(limited, owner.email, "wrong password")] * CONCURRENT))
    assert answers == {
        (401, "invalid_credentials"): PER_ACCOUNT,
        (429, "too_many_attempts"): CONCURRENT - PER_ACCOUNT,
    }
    # The limit holds for the right password too, sent alone or among wrong ones.
    calls = [sign_in(limited, owner.email, "wrong password")] * (CONCURRENT - 1) + [
        sign_in(limited, owner.email, PASSWORD)
    ]
    assert statuses(at_once(calls)) == {(429, "too_many_attempts"): CONCURRENT}


def test_a_right_password_gives_its_attempt_back(limited: TestClient) -> None:
    """A sign-in is no failure: the per-account count holds only failures, and the attempts in flight."""
    owner = register(limited)
    for _ in range(CONCURRENT // PER_ACCOUNT):  # as many at once as the limit lets be checked at once
        assert statuses(at_once([sign_in(limited, owner.email, PASSWORD)] * PER_ACCOUNT)) == {(200, ""): PER_ACCOUNT}
    for _ in range(PER_ACCOUNT):
        assert sign_in(limited, owner.email, "wrong password")().status_code == 401
    assert sign_in(limited, owner.email, PASSWORD)().status_code == 429


def registration(client: TestClient | httpx.Client) -> Callable[[], httpx.Response]:
    body = {
        "name": "New",
        "email": f"{unique('new')}@example.com",
        "password": PASSWORD,
        "orgName": "New Org",
        "orgSlug": unique("org"),
    }
    return lambda: client.post("/api/auth/register", json=body)


def test_registrations_are_limited_per_address_before_hashing(limited: TestClient) -> None:
    answers = statuses(at_once([registration(limited) for _ in range(CONCURRENT)]))
    assert answers == {(201, ""): REGISTRATIONS, (429, "too_many_attempts"): CONCURRENT - REGISTRATIONS}
    refused = registration(limited)()
    assert refused.status_code == 429
    assert set(refused.json()) == {"error", "code"}
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    # Nothing of the refused ones was stored; signing in is not registering.
    database: Database = limited.app.state.database  # type: ignore[attr-defined]
    with database.transaction(writes=False) as session:
        assert session.scalar(select(func.count()).select_from(Org)) == REGISTRATIONS


def test_the_counts_hold_across_two_server_processes(
    tmp_path: Path, database_url: str, counters: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wrong passwords and registrations sent at once to two servers on one database (and one Redis)."""
    for name, value in {**LIMITS, **counters}.items():
        monkeypatch.setenv(f"PROVENANT_{name.upper()}", str(value))
    with two_processes(tmp_path, database_url) as (first, second):
        owner = register(first)
        both = [first, second] * (CONCURRENT // 2)
        answers = statuses(at_once([sign_in(process, owner.email, "wrong password") for process in both]))
        assert answers == {
            (401, "invalid_credentials"): PER_ACCOUNT,
            (429, "too_many_attempts"): CONCURRENT - PER_ACCOUNT,
        }
        answers = statuses(at_once([registration(process) for process in both]))
        # One registration was the owner's, before.
        assert answers == {(201, ""): REGISTRATIONS - 1, (429, "too_many_attempts"): CONCURRENT - REGISTRATIONS + 1}
