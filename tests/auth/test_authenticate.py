"""The "Authenticating a request" table of the contract, row by row, and the role a token acts with."""

import base64
import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import (
    Account,
    add_member,
    assert_unauthorized,
    bearer,
    create_agent,
    create_key,
    register,
    set_role,
    unique,
)

ME = "/api/auth/me"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(account: Account) -> dict[str, object]:
    now = int(time.time())
    # jti and gen: every token carries them since sign-out revokes (tokens without them are refused).
    return {"sub": account.user_id, "iat": now, "exp": now + 3600, "jti": "a-token-id", "gen": 0}


# --- no credentials -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no header"),
        pytest.param("Basic {key}", id="basic scheme carrying a real key"),
        pytest.param("Token {key}", id="token scheme carrying a real key"),
        pytest.param("{key}", id="a real key without a scheme"),
        pytest.param("Bearer", id="bearer without a token"),
        pytest.param("Bearer ", id="bearer with an empty token"),
        pytest.param("", id="empty header"),
    ],
)
def test_a_request_without_a_bearer_token_is_unauthenticated(client: TestClient, authorization: str | None) -> None:
    key = create_key(client, register(client))
    headers = {} if authorization is None else {"Authorization": authorization.format(key=key)}
    assert_unauthorized(client.get(ME, headers=headers), "unauthenticated")


@pytest.mark.parametrize("parameter", ["api_key", "key", "apiKey", "access_token"])
def test_a_key_in_the_query_string_is_not_a_credential(client: TestClient, parameter: str) -> None:
    key = create_key(client, register(client))
    assert_unauthorized(client.get(f"{ME}?{parameter}={key}"), "unauthenticated")
    assert_unauthorized(client.get(f"/api/agents?{parameter}={key}"), "unauthenticated")


def test_a_jwt_in_the_query_string_is_not_a_credential(client: TestClient) -> None:
    owner = register(client)
    assert_unauthorized(client.get(f"{ME}?token={owner.token}"), "unauthenticated")


# --- API keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda key: key[:-1], id="31 hex"),
        pytest.param(lambda key: key + "0", id="33 hex"),
        pytest.param(lambda key: "pk_live_" + key[8:].upper(), id="uppercase hex"),
        pytest.param(lambda key: key[:-1] + "g", id="non-hex character"),
        pytest.param(lambda key: key[:-1] + "-", id="punctuation"),
        pytest.param(lambda key: "pk_live_", id="prefix alone"),
        pytest.param(lambda key: "PK_LIVE_" + key[8:], id="uppercase prefix"),
    ],
)
def test_a_malformed_key_is_an_invalid_api_key(client: TestClient, mangle: Callable[[str], str]) -> None:
    key = create_key(client, register(client))
    mangled = mangle(key)
    assert mangled != key
    response = client.get(ME, headers=bearer(mangled))
    # "PK_LIVE_…" does not start with pk_live_, so the contract reads it as a JWT.
    assert_unauthorized(response, "invalid_token" if mangled.startswith("PK") else "invalid_api_key")
    assert key[8:] not in response.text


def test_a_malformed_key_is_refused_before_any_database_read(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = create_key(client, register(client))
    reader = app.state.database.reader
    statements: list[str] = []
    real_fetchall = reader.fetchall

    def spy(sql: str, arguments: object) -> object:
        statements.append(sql)
        return real_fetchall(sql, arguments)

    monkeypatch.setattr(reader, "fetchall", spy)

    assert client.get(ME, headers=bearer(key)).status_code == 200
    assert len(statements) == 1  # the spy sees the lookup of a well-formed key

    assert_unauthorized(client.get(ME, headers=bearer(key[:-1] + "g")), "invalid_api_key")
    assert len(statements) == 1


def test_an_unknown_well_formed_key_is_an_invalid_api_key(client: TestClient) -> None:
    register(client)
    assert_unauthorized(client.get(ME, headers=bearer("pk_live_" + secrets.token_hex(16))), "invalid_api_key")


def test_a_key_past_its_expiry_is_refused_as_expired(client: TestClient) -> None:
    with time_machine.travel(datetime(2031, 3, 1, 12, tzinfo=UTC), tick=False) as traveller:
        owner = register(client)
        key = create_key(client, owner, expires_at=datetime(2031, 3, 2, tzinfo=UTC))
        assert client.get(ME, headers=bearer(key)).status_code == 200
        traveller.shift(timedelta(days=1))
        assert_unauthorized(client.get(ME, headers=bearer(key)), "api_key_expired")
        assert_unauthorized(client.get("/api/agents", headers=bearer(key)), "api_key_expired")


def test_a_revoked_key_is_refused_as_revoked(client: TestClient) -> None:
    owner = register(client)
    key = create_key(client, owner)
    key_id = client.get(ME, headers=bearer(key)).json()["apiKey"]["id"]
    assert client.delete(f"/api/org/keys/{key_id}", headers=owner.headers).status_code == 200
    assert_unauthorized(client.get(ME, headers=bearer(key)), "api_key_revoked")


def test_the_key_of_a_member_removed_from_the_org_is_refused_at_once(client: TestClient, database: Database) -> None:
    owner = register(client)
    member = add_member(client, database, owner, "MEMBER")
    key = create_key(client, member)
    assert client.get("/api/agents", headers=bearer(key)).status_code == 200

    set_role(database, member.user_id, None)

    assert_unauthorized(client.get("/api/agents", headers=bearer(key)), "api_key_owner_removed")
    assert_unauthorized(
        client.post("/api/agents", json={"name": "x", "slug": "x"}, headers=bearer(key)),
        "api_key_owner_removed",
    )
    assert client.get(ME, headers=member.headers).status_code == 401
    # The org's other credentials are untouched.
    assert client.get(ME, headers=owner.headers).status_code == 200


# --- JWTs ---------------------------------------------------------------------------------------


def test_a_jwt_with_alg_none_is_an_invalid_token(client: TestClient) -> None:
    owner = register(client)
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(owner))}."
    assert_unauthorized(client.get(ME, headers=bearer(unsigned)), "invalid_token")


def test_a_jwt_signed_with_another_secret_is_an_invalid_token(client: TestClient) -> None:
    owner = register(client)
    forged = jwt.encode(_claims(owner), secrets.token_urlsafe(48), algorithm="HS256")
    assert_unauthorized(client.get(ME, headers=bearer(forged)), "invalid_token")


@pytest.mark.parametrize("algorithm", ["HS512", "HS384"])
def test_a_jwt_signed_with_the_right_secret_but_another_algorithm_is_an_invalid_token(
    client: TestClient, app: FastAPI, algorithm: str
) -> None:
    owner = register(client)
    token = jwt.encode(_claims(owner), app.state.jwt_secret, algorithm=algorithm)
    assert_unauthorized(client.get(ME, headers=bearer(token)), "invalid_token")
    # The same claims signed as the contract says are accepted: only the algorithm was wrong.
    good = jwt.encode(_claims(owner), app.state.jwt_secret, algorithm="HS256")
    assert client.get(ME, headers=bearer(good)).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "..", "x" * 4000],
)
def test_a_garbage_jwt_is_an_invalid_token(client: TestClient, token: str) -> None:
    register(client)
    assert_unauthorized(client.get(ME, headers=bearer(token)), "invalid_token")


def test_a_tampered_jwt_is_an_invalid_token(client: TestClient) -> None:
    owner = register(client)
    header, _, signature = owner.token.split(".")
    payload = _b64({**_claims(owner), "exp": int(time.time()) + 10 * 365 * 86400})
    assert_unauthorized(client.get(ME, headers=bearer(f"{header}.{payload}.{signature}")), "invalid_token")


def test_a_jwt_without_an_expiry_is_an_invalid_token(client: TestClient, app: FastAPI) -> None:
    owner = register(client)
    token = jwt.encode({"sub": owner.user_id, "iat": int(time.time())}, app.state.jwt_secret, algorithm="HS256")
    assert_unauthorized(client.get(ME, headers=bearer(token)), "invalid_token")


def test_an_expired_jwt_is_refused_as_expired(client: TestClient) -> None:
    with time_machine.travel(datetime(2031, 3, 1, 12, tzinfo=UTC), tick=False) as traveller:
        owner = register(client)
        assert client.get(ME, headers=owner.headers).status_code == 200
        traveller.shift(timedelta(days=8))
        assert_unauthorized(client.get(ME, headers=owner.headers), "token_expired")
        assert_unauthorized(client.get("/api/agents", headers=owner.headers), "token_expired")


# --- the role a credential acts with ------------------------------------------------------------


def test_a_key_acts_with_the_current_role_of_its_creator(client: TestClient, database: Database) -> None:
    owner = register(client)
    member = add_member(client, database, owner, "MEMBER")
    key = bearer(create_key(client, member))
    create_agent(client, key)

    set_role(database, member.user_id, "VIEWER")

    response = client.post("/api/agents", json={"name": "n", "slug": unique("n")}, headers=key)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert client.get(ME, headers=key).json()["role"] == "VIEWER"
    assert client.get("/api/agents", headers=key).status_code == 200

    set_role(database, member.user_id, "ADMIN")
    assert client.get(ME, headers=key).json()["role"] == "ADMIN"
    create_agent(client, key)


def test_a_viewers_key_can_read_but_not_write(client: TestClient, database: Database) -> None:
    owner = register(client)
    viewer = add_member(client, database, owner, "VIEWER")
    key = bearer(create_key(client, viewer))
    assert client.get("/api/agents", headers=key).status_code == 200
    response = client.post("/api/agents", json={"name": "n", "slug": unique("n")}, headers=key)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "WWW-Authenticate" not in response.headers


def test_a_jwt_acts_with_the_current_role_of_its_user(client: TestClient, database: Database) -> None:
    owner = register(client)
    admin = add_member(client, database, owner, "ADMIN")
    assert client.get("/api/audit", headers=admin.headers).status_code == 200
    set_role(database, admin.user_id, "MEMBER")
    assert client.get(ME, headers=admin.headers).json()["role"] == "MEMBER"
    assert client.get("/api/audit", headers=admin.headers).status_code == 403
