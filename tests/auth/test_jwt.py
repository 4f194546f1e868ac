"""The JWT the server issues: its claims, its lifetime, and where its signing secret comes from."""

import stat
import threading
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient

from provenant.app import create_app
from provenant.config import Settings
from tests.factories import assert_unauthorized, bearer, login, register

SEVEN_DAYS = 604800


def _decode(token: str, secret: str) -> dict[str, object]:
    return dict(jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "iat", "exp"]}))


def test_register_and_login_issue_hs256_tokens_for_seven_days(client: TestClient, app: FastAPI) -> None:
    before = int(time.time())
    owner = register(client)
    again = login(client, owner.email)
    after = int(time.time())

    for token in (owner.token, again.token):
        assert jwt.get_unverified_header(token)["alg"] == "HS256"
        claims = _decode(token, app.state.jwt_secret)
        assert claims["sub"] == owner.user_id
        assert isinstance(claims["iat"], int)
        assert before <= claims["iat"] <= after
        assert claims["exp"] == claims["iat"] + SEVEN_DAYS


def test_a_jwt_works_until_just_before_exp_and_is_expired_at_exp(client: TestClient) -> None:
    issued = datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC)
    with time_machine.travel(issued, tick=False) as traveller:
        owner = register(client)
        claims = jwt.decode(owner.token, options={"verify_signature": False})
        assert claims["exp"] == int(issued.timestamp()) + SEVEN_DAYS
        exp = datetime.fromtimestamp(claims["exp"], UTC)

        traveller.move_to(exp - timedelta(seconds=1))
        assert client.get("/api/auth/me", headers=owner.headers).status_code == 200
        traveller.move_to(exp - timedelta(microseconds=1))
        assert client.get("/api/auth/me", headers=owner.headers).status_code == 200
        traveller.move_to(exp)
        assert_unauthorized(client.get("/api/auth/me", headers=owner.headers), "token_expired")
        traveller.move_to(exp + timedelta(days=30))
        assert_unauthorized(client.get("/api/auth/me", headers=owner.headers), "token_expired")


def test_a_token_issued_in_the_future_is_refused(client: TestClient, app: FastAPI) -> None:
    owner = register(client)
    later = int(time.time()) + 3600
    token = jwt.encode({"sub": owner.user_id, "iat": later, "exp": later + SEVEN_DAYS}, app.state.jwt_secret)
    assert_unauthorized(client.get("/api/auth/me", headers=bearer(token)), "invalid_token")


# --- the signing secret -------------------------------------------------------------------------


def test_the_generated_secret_is_kept_in_the_data_dir_readable_by_the_owner_only(
    client: TestClient, app: FastAPI, settings: Settings
) -> None:
    path = settings.data_dir / "jwt-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    assert len(secret) >= 32
    assert secret == app.state.jwt_secret
    owner = register(client)
    assert _decode(owner.token, secret)["sub"] == owner.user_id


def test_a_restart_keeps_everyone_signed_in(client: TestClient, settings: Settings) -> None:
    owner = register(client)
    secret_file = (settings.data_dir / "jwt-secret").read_bytes()

    with TestClient(create_app(settings), raise_server_exceptions=False) as restarted:
        me = restarted.get("/api/auth/me", headers=owner.headers)

    assert me.status_code == 200, me.text
    assert me.json()["id"] == owner.user_id
    assert (settings.data_dir / "jwt-secret").read_bytes() == secret_file


def test_each_data_dir_generates_its_own_secret(client: TestClient, settings: Settings) -> None:
    """No default secret: a server with another data dir cannot accept this one's tokens."""
    owner = register(client)
    elsewhere = settings.model_copy(update={"data_dir": settings.data_dir.parent / "elsewhere"})

    with TestClient(create_app(elsewhere), raise_server_exceptions=False) as other:
        assert_unauthorized(other.get("/api/auth/me", headers=owner.headers), "invalid_token")
        assert (elsewhere.data_dir / "jwt-secret").read_text() != (settings.data_dir / "jwt-secret").read_text()


@pytest.mark.usefixtures("database")  # the schema, migrated
def test_provenant_jwt_secret_is_used_instead_of_a_generated_one(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "a-deployment-wide-secret-of-at-least-32-bytes"
    monkeypatch.setenv("PROVENANT_JWT_SECRET", secret)
    data_dir = settings.data_dir.parent / "configured"
    configured = Settings(data_dir=data_dir, database_url=settings.resolved_database_url)

    with TestClient(create_app(configured), raise_server_exceptions=False) as client:
        owner = register(client)
        assert _decode(owner.token, secret)["sub"] == owner.user_id
        assert client.get("/api/auth/me", headers=owner.headers).status_code == 200

    assert not (data_dir / "jwt-secret").exists()


@pytest.mark.usefixtures("database")  # the schema, migrated
def test_servers_sharing_provenant_jwt_secret_accept_each_others_tokens(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANT_JWT_SECRET", "one-secret-for-every-machine-of-the-deployment")
    first = Settings(data_dir=settings.data_dir.parent / "machine-1", database_url=settings.resolved_database_url)
    second = Settings(data_dir=settings.data_dir.parent / "machine-2", database_url=settings.resolved_database_url)

    with TestClient(create_app(first), raise_server_exceptions=False) as one:
        owner = register(one)
    with TestClient(create_app(second), raise_server_exceptions=False) as two:
        assert two.get("/api/auth/me", headers=owner.headers).json()["id"] == owner.user_id


def _start_together(settings: Settings, count: int) -> tuple[list[str], list[Exception]]:
    """``count`` apps built at the same instant on the same settings: their secrets, and any failure."""
    barrier = threading.Barrier(count)
    secrets: list[str] = []
    failures: list[Exception] = []

    def start() -> None:
        barrier.wait()
        try:
            app = create_app(settings)
        except Exception as exc:
            failures.append(exc)
            return
        secrets.append(app.state.jwt_secret)
        app.state.database.dispose()

    threads = [threading.Thread(target=start) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return secrets, failures


def test_servers_starting_together_on_a_fresh_data_dir_agree_on_one_secret(settings: Settings) -> None:
    """Workers, or containers sharing a volume, start at once: none may fail or sign with a secret of its own."""
    for attempt in range(20):
        fresh = settings.model_copy(update={"data_dir": settings.data_dir.parent / f"fresh-{attempt}"})

        secrets, failures = _start_together(fresh, 8)

        assert failures == []
        path = fresh.data_dir / "jwt-secret"
        assert secrets == [path.read_text().strip()] * 8
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert [entry.name for entry in fresh.data_dir.iterdir() if "jwt" in entry.name] == ["jwt-secret"]
