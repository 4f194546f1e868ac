"""Register, log in, who am I, log out: the Auth table of the contract."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from provenant.db import Database
from provenant.models import Org, User
from tests.factories import (
    PASSWORD,
    add_member,
    assert_unauthorized,
    bearer,
    create_key,
    login,
    register,
    unique,
)


def _registration(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Ada Lovelace",
        "email": f"{unique('ada')}@example.com",
        "password": PASSWORD,
        "orgName": "Analytical Engines",
        "orgSlug": unique("engines"),
        **overrides,
    }


def _fields(response_body: dict[str, Any]) -> list[str]:
    return [detail["field"] for detail in response_body["details"]]


# --- register -----------------------------------------------------------------------------------


def test_register_creates_the_org_and_its_owner_and_signs_them_in(client: TestClient, database: Database) -> None:
    body = _registration(orgSlug="analytical-engines")
    response = client.post("/api/auth/register", json=body)

    assert response.status_code == 201, response.text
    result = response.json()
    assert set(result) == {"token", "user", "org"}
    assert set(result["user"]) == {"id", "name", "email", "role", "orgId"}
    assert set(result["org"]) == {"id", "name", "slug"}
    assert result["user"]["role"] == "OWNER"
    assert result["user"]["name"] == "Ada Lovelace"
    assert result["user"]["email"] == body["email"]
    assert result["user"]["orgId"] == result["org"]["id"]
    assert result["org"] == {
        "id": result["org"]["id"],
        "name": "Analytical Engines",
        "slug": "analytical-engines",
    }

    me = client.get("/api/auth/me", headers=bearer(result["token"]))
    assert me.status_code == 200
    assert me.json()["id"] == result["user"]["id"]
    with database.transaction() as session:
        org = session.scalars(select(Org).where(Org.slug == "analytical-engines")).one()
        owners = session.scalars(select(User).where(User.org_id == org.id)).all()
        assert [(user.id, user.role) for user in owners] == [(result["user"]["id"], "OWNER")]


def test_registering_writes_an_audit_entry(client: TestClient) -> None:
    owner = register(client)
    entries = client.get("/api/audit?action=auth.register", headers=owner.headers).json()
    assert [entry["user"]["id"] for entry in entries] == [owner.user_id]


@pytest.mark.parametrize("variant", [str.upper, str.lower, str.title])
def test_registering_an_email_again_in_another_case_is_a_conflict(client: TestClient, variant: Any) -> None:
    email = f"{unique('Grace')}@Example.com"
    register(client, email=email)

    retry_slug = unique("second")
    response = client.post("/api/auth/register", json=_registration(email=variant(email), orgSlug=retry_slug))

    assert response.status_code == 409, response.text
    assert set(response.json()) == {"error", "code"}
    # Nothing of the refused registration remains: its slug is still free.
    assert client.post("/api/auth/register", json=_registration(orgSlug=retry_slug)).status_code == 201


def test_registering_a_taken_org_slug_is_a_conflict(client: TestClient) -> None:
    first = client.post("/api/auth/register", json=_registration(orgSlug="acme"))
    assert first.status_code == 201

    email = f"{unique('other')}@example.com"
    response = client.post("/api/auth/register", json=_registration(email=email, orgSlug="acme"))

    assert response.status_code == 409, response.text
    assert set(response.json()) == {"error", "code"}
    # The refused registration left no account behind: the email is still free.
    assert client.post("/api/auth/register", json=_registration(email=email)).status_code == 201


@pytest.mark.parametrize("length", [7, 1025, 0])
def test_a_password_outside_8_to_1024_characters_is_refused(client: TestClient, length: int) -> None:
    password = "p" * length
    response = client.post("/api/auth/register", json=_registration(password=password))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert _fields(response.json()) == ["password"]


@pytest.mark.parametrize("length", [8, 1024])
def test_a_password_of_8_or_1024_characters_is_accepted_and_signs_in(client: TestClient, length: int) -> None:
    password = ("pässwörd" * 128)[:length]
    account = register(client, password=password)
    assert login(client, account.email, password).user_id == account.user_id


@pytest.mark.parametrize(
    "slug",
    ["Acme", "-acme", "acme-", "ac me", "acme_corp", "ac.me", "", "a" * 65, "acmé"],
)
def test_an_org_slug_outside_the_pattern_is_refused(client: TestClient, slug: str) -> None:
    response = client.post("/api/auth/register", json=_registration(orgSlug=slug))
    assert response.status_code == 422, response.text
    assert _fields(response.json()) == ["orgSlug"]


@pytest.mark.parametrize("slug", ["a", "0", "a-b", "a--b", "a" * 64])
def test_an_org_slug_inside_the_pattern_is_accepted(client: TestClient, slug: str) -> None:
    response = client.post("/api/auth/register", json=_registration(orgSlug=slug))
    assert response.status_code == 201, response.text
    assert response.json()["org"]["slug"] == slug


@pytest.mark.parametrize("field", ["name", "email", "password", "orgName", "orgSlug"])
def test_registering_without_a_field_names_it(client: TestClient, field: str) -> None:
    body = _registration()
    del body[field]
    response = client.post("/api/auth/register", json=body)
    assert response.status_code == 422
    assert _fields(response.json()) == [field]


def test_registering_with_an_invalid_email_is_refused(client: TestClient) -> None:
    response = client.post("/api/auth/register", json=_registration(email="not-an-email"))
    assert response.status_code == 422
    assert _fields(response.json()) == ["email"]


def test_the_stored_password_is_an_argon2id_hash(client: TestClient, database: Database) -> None:
    account = register(client)
    with database.transaction() as session:
        stored = session.get_one(User, account.user_id).password_hash
    assert stored.startswith("$argon2id$")
    assert account.password not in stored


# --- login --------------------------------------------------------------------------------------


def test_login_answers_the_token_the_user_and_the_org(client: TestClient) -> None:
    owner = register(client)
    response = client.post("/api/auth/login", json={"email": owner.email, "password": owner.password})
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == owner.user
    assert body["org"] == owner.org
    assert client.get("/api/auth/me", headers=bearer(body["token"])).json()["id"] == owner.user_id


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(client: TestClient) -> None:
    owner = register(client)
    unknown = client.post("/api/auth/login", json={"email": "nobody@example.com", "password": owner.password})
    wrong = client.post("/api/auth/login", json={"email": owner.email, "password": owner.password + "!"})

    assert_unauthorized(unknown, "invalid_credentials")
    assert (wrong.status_code, wrong.content) == (unknown.status_code, unknown.content)
    assert wrong.headers.get("WWW-Authenticate") == unknown.headers.get("WWW-Authenticate")


def test_a_short_wrong_password_is_invalid_credentials_not_a_validation_error(client: TestClient) -> None:
    owner = register(client)
    response = client.post("/api/auth/login", json={"email": owner.email, "password": "x"})
    assert_unauthorized(response, "invalid_credentials")


def test_a_failed_login_is_audited_in_the_users_org(client: TestClient) -> None:
    owner = register(client)
    client.post("/api/auth/login", json={"email": owner.email, "password": "wrong password"})
    entries = client.get("/api/audit?action=auth.login_failed", headers=owner.headers).json()
    assert [entry["user"]["id"] for entry in entries] == [owner.user_id]


@pytest.mark.parametrize("variant", [str.upper, str.lower, str.swapcase])
def test_login_ignores_the_case_of_the_email(client: TestClient, variant: Any) -> None:
    owner = register(client, email=f"{unique('Mixed.Case')}@Example.com")
    assert login(client, variant(owner.email)).user_id == owner.user_id


def test_a_member_logs_in_to_their_org_with_their_role(client: TestClient, database: Database) -> None:
    owner = register(client)
    member = add_member(client, database, owner, "VIEWER")
    assert member.user["role"] == "VIEWER"
    assert member.org == owner.org


# --- me -----------------------------------------------------------------------------------------


def test_me_with_a_jwt_says_who_is_calling(client: TestClient) -> None:
    owner = register(client, name="Grace")
    me = client.get("/api/auth/me", headers=owner.headers)
    assert me.status_code == 200
    assert me.json() == {
        "id": owner.user_id,
        "name": "Grace",
        "email": owner.email,
        "role": "OWNER",
        "orgId": owner.org_id,
        "org": owner.org,
        "authMethod": "jwt",
        "twoFactor": False,
        "twoFactorRequired": False,
        "permissions": me.json()["permissions"],  # what they are: tests/accounts/test_me_permissions.py
    }


def test_me_with_a_key_names_the_key(client: TestClient, database: Database) -> None:
    owner = register(client)
    member = add_member(client, database, owner, "MEMBER", name="Linus")
    created = client.post("/api/org/keys", json={"name": "github-actions"}, headers=member.headers).json()

    me = client.get("/api/auth/me", headers=bearer(created["key"]))

    assert me.status_code == 200
    assert me.json() == {
        "id": member.user_id,
        "name": "Linus",
        "email": member.email,
        "role": "MEMBER",
        "orgId": owner.org_id,
        "org": owner.org,
        "authMethod": "api_key",
        "apiKey": {"id": created["id"], "name": "github-actions"},
        "twoFactor": False,
        "twoFactorRequired": False,
        "permissions": me.json()["permissions"],
    }


# --- logout -------------------------------------------------------------------------------------


def test_logout_answers_204_and_is_audited(client: TestClient) -> None:
    owner = register(client)
    response = client.post("/api/auth/logout", headers=owner.headers)
    assert response.status_code == 204
    assert response.content == b""

    # Logout now ends the token it was called with: read the log signed in again.
    again = login(client, owner.email)
    entries = client.get("/api/audit?action=auth.logout", headers=again.headers).json()
    assert len(entries) == 1
    assert entries[0]["user"]["id"] == owner.user_id
    assert entries[0]["resourceId"] == owner.user_id
    assert entries[0]["apiKeyId"] is None


def test_logout_with_a_key_records_the_key(client: TestClient) -> None:
    owner = register(client)
    key = create_key(client, owner)
    assert client.post("/api/auth/logout", headers=bearer(key)).status_code == 204
    key_id = client.get("/api/auth/me", headers=bearer(key)).json()["apiKey"]["id"]
    entries = client.get("/api/audit?action=auth.logout", headers=owner.headers).json()
    assert [entry["apiKeyId"] for entry in entries] == [key_id]


def test_logout_needs_a_credential(client: TestClient) -> None:
    assert_unauthorized(client.post("/api/auth/logout"), "unauthenticated")
