"""Guessing is limited: failed sign-ins per account and address and per address, failed API keys per
address. While limited, the right password or key gets the same 429; limits lift on their own.

Each test runs with the counters in the database (SQLite and PostgreSQL) and in Redis, with limits
lowered through the settings so that a test needs a handful of attempts, not a hundred.
"""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database
from tests.factories import PASSWORD, bearer, create_key, register
from tests.servers import serve, two_processes

pytestmark = pytest.mark.both_databases  # the counters are an upsert written per dialect

REDIS_URL = "redis://127.0.0.1:6379/0"
LIMITS = {
    "sign_in_failures_per_account": 3,
    "sign_in_failures_per_ip": 5,
    "api_key_failures_per_ip": 4,
}
UNKNOWN_KEY = "pk_live_" + "0" * 32
REGISTRATION = {"name": "New", "password": PASSWORD, "orgName": "New", "orgSlug": "new-org"}


@pytest.fixture(params=["database", "redis"])
def counters(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Where the counters live: the app's database, or Redis under a prefix of this test's own."""
    if request.param == "database":
        return {}
    return {"redis_url": REDIS_URL, "redis_prefix": f"test-{uuid.uuid4().hex}:"}


@pytest.fixture
def limited(tmp_path: Path, database_url: str, database: Database, counters: dict[str, Any]) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, **LIMITS, **counters)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def sign_in(client: TestClient | httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/api/auth/login", json={"email": email, "password": password})


def assert_too_many(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["code"] == "too_many_attempts"
    assert set(body) == {"error", "code"}
    assert int(response.headers["Retry-After"]) >= 1


def test_the_right_password_gets_the_same_429_once_an_account_failed_too_often(limited: TestClient) -> None:
    owner = register(limited)
    for _ in range(3):
        assert sign_in(limited, owner.email, "wrong password").status_code == 401
    assert_too_many(sign_in(limited, owner.email, "wrong password"))
    assert_too_many(sign_in(limited, owner.email, PASSWORD))
    assert_too_many(sign_in(limited, owner.email.upper(), PASSWORD))  # the email normalised
    # Another account from the same address is not locked by this one.
    other = register(limited)
    assert sign_in(limited, other.email, PASSWORD).status_code == 200


def test_a_successful_sign_in_clears_the_accounts_count(limited: TestClient) -> None:
    owner = register(limited)
    for _ in range(2):
        assert sign_in(limited, owner.email, "wrong password").status_code == 401
    assert sign_in(limited, owner.email, PASSWORD).status_code == 200
    for _ in range(2):
        assert sign_in(limited, owner.email, "wrong password").status_code == 401
    assert sign_in(limited, owner.email, PASSWORD).status_code == 200


def test_an_address_is_limited_across_accounts(limited: TestClient) -> None:
    owner = register(limited)
    for index in range(5):
        assert sign_in(limited, f"nobody-{index}-{uuid.uuid4().hex}@example.com", "guess").status_code == 401
    assert_too_many(sign_in(limited, owner.email, PASSWORD))


def test_limits_lift_on_their_own(
    tmp_path: Path, database_url: str, database: Database, counters: dict[str, Any]
) -> None:
    """Nobody can lock a victim out for good: with one-second windows, a second later all is forgiven."""
    window = 1  # the shortest a setting allows; the nine requests it must hold for take a fraction of it
    windows = {
        "sign_in_failures_per_account_window": window,
        "sign_in_failures_per_ip_window": window,
        "api_key_failures_per_ip_window": window,
    }
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, **LIMITS, **windows, **counters)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        owner = register(client)
        key = create_key(client, owner)
        for _ in range(3):
            sign_in(client, owner.email, "wrong password")
        client.get("/api/auth/me", headers=bearer(UNKNOWN_KEY))
        # Every window opened before this answer came back: the key counter's, the last, at its first failure.
        last_window_opened = time.monotonic()
        for _ in range(3):
            client.get("/api/auth/me", headers=bearer(UNKNOWN_KEY))
        assert_too_many(sign_in(client, owner.email, PASSWORD))
        assert_too_many(client.get("/api/auth/me", headers=bearer(key)))
        time.sleep(max(0.0, last_window_opened + window + 0.2 - time.monotonic()))
        assert sign_in(client, owner.email, PASSWORD).status_code == 200
        assert client.get("/api/auth/me", headers=bearer(key)).status_code == 200


def test_failed_keys_are_limited_per_address_before_the_database_is_asked(limited: TestClient) -> None:
    owner = register(limited)
    key = create_key(limited, owner)
    revoked = create_key(limited, owner, name="revoked")
    revoked_id = limited.get("/api/org/keys", headers=owner.headers).json()[0]["id"]
    assert limited.delete(f"/api/org/keys/{revoked_id}", headers=owner.headers).status_code == 200
    # Unknown, malformed and revoked keys all count.
    for token in (UNKNOWN_KEY, "pk_live_not-even-hex", revoked, UNKNOWN_KEY):
        assert limited.get("/api/agents", headers=bearer(token)).status_code == 401

    reader = limited.app.state.database.reader  # type: ignore[attr-defined]
    reads: list[str] = []
    real_fetchall = reader.fetchall

    def counting_fetchall(sql: str, arguments: Any) -> Any:
        reads.append(sql)
        return real_fetchall(sql, arguments)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "fetchall", counting_fetchall)
        assert_too_many(limited.get("/api/agents", headers=bearer(key)))
        assert_too_many(limited.get("/api/agents", headers=bearer(UNKNOWN_KEY)))
    assert reads == [], "a blocked address reached the database"
    # A person signed in with a JWT is not an API-key guesser.
    assert limited.get("/api/agents", headers=owner.headers).status_code == 200


def test_the_counters_hold_across_server_processes(
    tmp_path: Path, database_url: str, counters: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two servers on one database (and one Redis prefix), as two machines behind a load balancer: each
    request goes to the process the test chooses. (`--workers N` leaves that to the kernel, which may give
    one worker a run of fresh connections: with two workers, all 40 of 40 in one of eight tries.)"""
    for name, value in {**LIMITS, **counters}.items():
        monkeypatch.setenv(f"PROVENANT_{name.upper()}", str(value))
    with two_processes(tmp_path, database_url) as (first, second):
        owner = register(first)
        both = (first, second)

        # Neither process sees three failures of its own: the first two, the second one.
        for process in (first, second, first):
            assert sign_in(process, owner.email, "wrong password").status_code == 401
        for process in both * 4:
            assert_too_many(sign_in(process, owner.email, PASSWORD))

        # Two failed keys through each process: neither reaches the limit of four on its own.
        for process in both * 2:
            assert process.get("/api/auth/me", headers=bearer(UNKNOWN_KEY)).status_code == 401
        # Every process refuses from its first failure after the limit, whichever saw the others.
        for process in both * 4:
            assert_too_many(process.get("/api/auth/me", headers=bearer(UNKNOWN_KEY)))
        for process in both:
            assert process.get("/api/health").status_code == 200


def test_redis_out_of_reach_answers_503_busy_not_a_free_pass(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", database_url=database_url))) as without_redis:
        owner = register(without_redis)
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, redis_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for response in (
            sign_in(client, owner.email, PASSWORD),
            client.post("/api/auth/register", json={**REGISTRATION, "email": "new@example.com"}),
        ):
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "busy"
            assert response.headers["Retry-After"] == "1"
        assert client.get("/api/auth/me", headers=owner.headers).status_code == 200


@pytest.mark.parametrize("counters", ["database"], indirect=True)
@pytest.mark.parametrize("trusted", [False, True])
def test_the_client_address_comes_from_forwarded_for_only_behind_a_trusted_proxy(
    tmp_path: Path, database_url: str, counters: dict[str, Any], trusted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without PROVENANT_TRUSTED_PROXIES, a guesser cannot dodge the per-address limit with a made-up header."""
    monkeypatch.setenv("PROVENANT_API_KEY_FAILURES_PER_IP", "2")
    if trusted:
        monkeypatch.setenv("PROVENANT_TRUSTED_PROXIES", "127.0.0.1")
    with serve(tmp_path / "proxy", database_url) as server:
        statuses = [
            httpx.get(
                f"{server.url}/api/auth/me",
                headers={**bearer(UNKNOWN_KEY), "X-Forwarded-For": f"203.0.113.{attempt}"},
            ).status_code
            for attempt in range(5)
        ]
    # Behind a trusted proxy, five different clients fail once each; otherwise one client failed five times.
    assert statuses == ([401] * 5 if trusted else [401, 401, 429, 429, 429])


def test_a_wrong_current_password_counts_as_a_failed_sign_in(limited: TestClient) -> None:
    """A stolen JWT is no way to guess the account's password through the password change."""
    owner = register(limited)

    def change(current: str) -> httpx.Response:
        body = {"currentPassword": current, "newPassword": "a brand new passphrase"}
        return limited.post("/api/auth/password", json=body, headers=owner.headers)

    for _ in range(3):
        assert change("wrong password").status_code == 403
    assert_too_many(change(PASSWORD))
    assert_too_many(sign_in(limited, owner.email, PASSWORD))
