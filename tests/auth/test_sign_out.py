"""Sign-out that signs out: logout ends its token, logout-all every token of the caller, a password
change every older one ("Sessions end everywhere; passwords" in the contract)."""

from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from provenant.db import Database
from provenant.models import RevokedToken
from tests.factories import (
    PASSWORD,
    Account,
    add_member,
    assert_unauthorized,
    audit_entries,
    bearer,
    create_key,
    login,
    register,
)

pytestmark = pytest.mark.both_databases  # the denylist is swept by time in SQL, and a repeated jti meets a savepoint

ME = "/api/auth/me"
NEW_PASSWORD = "a much better passphrase"


def _me(client: TestClient, account: Account) -> int:
    return int(client.get(ME, headers=account.headers).status_code)


def _change_password(client: TestClient, account: Account, current: str, new: str) -> httpx.Response:
    body = {"currentPassword": current, "newPassword": new}
    return client.post("/api/auth/password", json=body, headers=account.headers)


# --- logout: this token -------------------------------------------------------------------------


def test_logout_ends_the_token_it_was_called_with_and_no_other(client: TestClient) -> None:
    owner = register(client)
    elsewhere = login(client, owner.email)

    assert client.post("/api/auth/logout", headers=owner.headers).status_code == 204

    assert_unauthorized(client.get(ME, headers=owner.headers), "token_revoked")
    assert_unauthorized(client.post("/api/auth/logout", headers=owner.headers), "token_revoked")
    assert _me(client, elsewhere) == 200


def test_a_signed_out_token_is_refused_until_it_expires_and_only_then_forgotten(
    client: TestClient, database: Database
) -> None:
    issued = datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC)
    with time_machine.travel(issued, tick=False) as traveller:
        owner = register(client)
        assert client.post("/api/auth/logout", headers=owner.headers).status_code == 204

        traveller.move_to(issued + timedelta(days=7, seconds=-1))
        assert_unauthorized(client.get(ME, headers=owner.headers), "token_revoked")
        later = login(client, owner.email)
        assert client.post("/api/auth/logout", headers=later.headers).status_code == 204
        with database.transaction(writes=False) as session:
            assert session.scalar(select(func.count()).select_from(RevokedToken)) == 2

        traveller.move_to(issued + timedelta(days=7))
        assert_unauthorized(client.get(ME, headers=owner.headers), "token_expired")
        last = login(client, owner.email)
        assert client.post("/api/auth/logout", headers=last.headers).status_code == 204
        with database.transaction(writes=False) as session:
            jtis = set(session.scalars(select(RevokedToken.jti)))
    # The expired token's row was swept by the next logout; the two live ones are kept.
    claims = {jwt.decode(account.token, options={"verify_signature": False})["jti"] for account in (later, last)}
    assert jtis == claims


def test_logout_with_an_api_key_is_recorded_and_revokes_nothing(client: TestClient) -> None:
    owner = register(client)
    key = create_key(client, owner)

    assert client.post("/api/auth/logout", headers=bearer(key)).status_code == 204

    assert client.get(ME, headers=bearer(key)).status_code == 200
    assert _me(client, owner) == 200


# --- logout-all: every token of the caller ------------------------------------------------------


def test_logout_all_ends_every_jwt_of_the_caller_and_nothing_else(client: TestClient, database: Database) -> None:
    owner = register(client)
    laptop, phone = login(client, owner.email), login(client, owner.email)
    colleague = add_member(client, database, owner, "ADMIN")
    key = create_key(client, owner)

    response = client.post("/api/auth/logout-all", headers=laptop.headers)

    assert response.status_code == 204 and response.content == b""
    for account in (owner, laptop, phone):
        assert_unauthorized(client.get(ME, headers=account.headers), "token_revoked")
    assert _me(client, colleague) == 200
    assert client.get(ME, headers=bearer(key)).status_code == 200  # keys are revoked one by one
    fresh = login(client, owner.email)
    assert _me(client, fresh) == 200
    [entry] = audit_entries(client, fresh.headers, action="auth.logout_all")
    assert entry["user"]["id"] == owner.user_id and entry["resourceId"] == owner.user_id


def test_a_token_issued_in_the_same_second_as_logout_all_works_and_the_older_ones_do_not(
    client: TestClient,
) -> None:
    """``iat`` has one-second resolution; the cut-off is a generation counter, not a time: same second, no doubt."""
    with time_machine.travel(datetime(2031, 5, 4, 3, 2, 1, 250000, tzinfo=UTC), tick=False):
        owner = register(client)
        stolen = login(client, owner.email)
        assert client.post("/api/auth/logout-all", headers=owner.headers).status_code == 204
        fresh = login(client, owner.email)

        def iat(account: Account) -> int:
            return int(jwt.decode(account.token, options={"verify_signature": False})["iat"])

        assert iat(fresh) == iat(stolen) == iat(owner)
        assert _me(client, fresh) == 200
        assert_unauthorized(client.get(ME, headers=stolen.headers), "token_revoked")
        assert_unauthorized(client.get(ME, headers=owner.headers), "token_revoked")


def test_logout_all_and_password_change_need_a_person_not_an_api_key(client: TestClient) -> None:
    owner = register(client)
    key = bearer(create_key(client, owner))

    for response in (
        client.post("/api/auth/logout-all", headers=key),
        client.post("/api/auth/password", json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}, headers=key),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
    assert _me(client, owner) == 200
    assert login(client, owner.email).token


@pytest.mark.parametrize("path", ["/api/auth/logout-all", "/api/auth/password"])
def test_logout_all_and_password_change_need_a_credential(client: TestClient, path: str) -> None:
    assert_unauthorized(client.post(path, json={}), "unauthenticated")


# --- password change ----------------------------------------------------------------------------


def test_changing_the_password_ends_every_older_token_and_answers_a_fresh_one(client: TestClient) -> None:
    owner = register(client)
    laptop = login(client, owner.email)

    response = _change_password(client, owner, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"token", "user", "org"}
    assert body["user"] == owner.user and body["org"] == owner.org
    assert client.get(ME, headers=bearer(body["token"])).status_code == 200
    for account in (owner, laptop):
        assert_unauthorized(client.get(ME, headers=account.headers), "token_revoked")
    refused = client.post("/api/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert_unauthorized(refused, "invalid_credentials")
    assert _me(client, login(client, owner.email, NEW_PASSWORD)) == 200
    [entry] = audit_entries(client, bearer(body["token"]), action="auth.password_changed")
    assert entry["resourceId"] == owner.user_id
    assert PASSWORD not in str(entry) and NEW_PASSWORD not in str(entry)


def test_a_wrong_current_password_is_refused_and_changes_nothing(client: TestClient) -> None:
    owner = register(client)

    response = _change_password(client, owner, "not the password", NEW_PASSWORD)

    assert response.status_code == 403, response.text
    assert response.json()["code"] == "invalid_credentials"
    assert _me(client, owner) == 200
    assert login(client, owner.email, PASSWORD).token
    refused = client.post("/api/auth/login", json={"email": owner.email, "password": NEW_PASSWORD})
    assert_unauthorized(refused, "invalid_credentials")
    failed = audit_entries(client, owner.headers, action="auth.login_failed")
    assert {"email": owner.email, "via": "password-change"} in [entry["after"] for entry in failed]


@pytest.mark.parametrize(
    "new_password",
    [
        pytest.param("7 chars", id="too short"),
        pytest.param("x" * 1025, id="too long"),
        pytest.param("iloveyou", id="common"),
        pytest.param("Password1", id="common in another case"),
    ],
)
def test_a_new_password_must_follow_the_rules(client: TestClient, new_password: str) -> None:
    owner = register(client)

    response = _change_password(client, owner, PASSWORD, new_password)

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert [detail["field"] for detail in body["details"]] == ["newPassword"]
    assert new_password not in response.text
    assert _me(client, owner) == 200
    assert login(client, owner.email, PASSWORD).token
