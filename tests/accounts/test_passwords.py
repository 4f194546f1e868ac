"""New passwords: 8 to 1024 characters of any Unicode, used whole, not on the common-password list;
hashes made with older argon2 parameters upgraded at the next sign-in."""

from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from provenant.accounts.passwords import is_common_password, password_needs_rehash
from provenant.db import Database
from provenant.models import User
from tests.factories import accept, invite, link_token, register, unique

LONG_PREFIX = ("pässwörd 密码 🔑 " * 71)[:990]  # several scripts and an emoji


def _register(client: TestClient, password: str) -> Any:
    body = {
        "name": "Ada",
        "email": f"{unique('ada')}@example.com",
        "password": password,
        "orgName": "Acme",
        "orgSlug": unique("org"),
    }
    return client.post("/api/auth/register", json=body)


def _sign_in(client: TestClient, email: str, password: str) -> int:
    return int(client.post("/api/auth/login", json={"email": email, "password": password}).status_code)


def test_a_long_unicode_password_is_used_whole(client: TestClient) -> None:
    password = LONG_PREFIX + "0123456789"
    assert len(password) == 1000
    owner = register(client, password=password)

    assert _sign_in(client, owner.email, password) == 200
    assert _sign_in(client, owner.email, password[:-1] + "8") == 401  # only the last character differs
    assert _sign_in(client, owner.email, password[:72]) == 401  # no bcrypt-style truncation


def test_passwords_of_8_and_1024_characters_are_taken_and_7_and_1025_refused(client: TestClient) -> None:
    assert _register(client, "🔑" * 8).status_code == 201
    assert _register(client, "z" * 1024).status_code == 201
    for password in ("🔑" * 7, "z" * 1025):
        response = _register(client, password)
        assert response.status_code == 422
        assert [detail["field"] for detail in response.json()["details"]] == ["password"]


@pytest.mark.parametrize("password", ["password1", "PASSWORD1", "Iloveyou", "trustno1", "qwertyuiop"])
def test_a_common_password_is_refused_at_register(client: TestClient, password: str) -> None:
    response = _register(client, password)

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["details"][0]["field"] == "password"
    assert "common" in body["details"][0]["message"]
    assert password not in response.text


def test_a_common_password_is_refused_when_accepting_as_a_new_account(client: TestClient) -> None:
    owner = register(client)
    token = link_token(invite(client, owner)["inviteLink"])

    refused = accept(client, token, password="sunshine")

    assert refused.status_code == 422, refused.text
    assert refused.json()["details"][0]["field"] == "password"
    assert accept(client, token, password="a sunnier passphrase").status_code == 201  # the link still works


def test_the_list_holds_ten_thousand_passwords_and_compares_without_case() -> None:
    assert is_common_password("baseball") and is_common_password("BaseBall")
    assert not is_common_password("baseball but longer")
    assert not is_common_password("correct horse battery")


def test_a_hash_made_with_older_argon2_parameters_is_upgraded_at_the_next_sign_in(
    client: TestClient, database: Database
) -> None:
    owner = register(client)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(owner.password)
    with database.transaction() as session:
        session.execute(update(User).where(User.id == owner.user_id).values(password_hash=weak))

    assert _sign_in(client, owner.email, owner.password) == 200

    with database.transaction(writes=False) as session:
        stored = session.scalars(select(User.password_hash).where(User.id == owner.user_id)).one()
    assert stored != weak
    assert stored.startswith("$argon2id$") and not password_needs_rehash(stored)
    assert PasswordHasher().verify(stored, owner.password)
    assert _sign_in(client, owner.email, owner.password) == 200
