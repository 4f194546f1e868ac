"""Create, list and revoke API keys: the shapes, the validation, and who sees which key."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import (
    Account,
    add_member,
    assert_unauthorized,
    bearer,
    create_key,
    register,
    set_role,
)

KEYS = "/api/org/keys"
KEY_FIELDS = {
    "id",
    "name",
    "keyPrefix",
    "isActive",
    "expiresAt",
    "lastUsedAt",
    "createdAt",
    "revokedAt",
    "user",
    # Key access and rolling (second milestone)
    "access",
    "revokedReason",
    "rolledToId",
    # Per-key rate limits (third milestone)
    "rateLimitPerMinute",
    # Trusted CI (third milestone)
    "ephemeral",
    "policyId",
}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ROLES = ["OWNER", "ADMIN", "MEMBER", "VIEWER"]


def _create(client: TestClient, account: Account, **body: Any) -> dict[str, Any]:
    response = client.post(KEYS, json={"name": "ci", **body}, headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _listed(client: TestClient, account: Account, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"{KEYS}{query}", headers=account.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def _account_with_role(client: TestClient, database: Database, owner: Account, role: str) -> Account:
    return owner if role == "OWNER" else add_member(client, database, owner, role, name=f"{role} person")


# --- create -------------------------------------------------------------------------------------


def test_a_new_key_is_pk_live_and_32_lowercase_hex_and_shown_with_its_metadata(client: TestClient) -> None:
    owner = register(client, name="Ada")
    created = _create(client, owner, name="prod-ingestion")

    assert set(created) == KEY_FIELDS | {"key"}
    assert created["ephemeral"] is False and created["policyId"] is None  # a person's key, not a CI job's
    assert re.fullmatch(r"pk_live_[0-9a-f]{32}", created["key"])
    assert created["keyPrefix"] == created["key"][8:16]
    assert created["name"] == "prod-ingestion"
    assert created["isActive"] is True
    assert created["expiresAt"] is None
    assert created["lastUsedAt"] is None
    assert created["revokedAt"] is None
    assert TIMESTAMP.match(created["createdAt"])
    assert created["user"] == {"id": owner.user_id, "name": "Ada", "email": owner.email}


def test_every_key_is_different(client: TestClient) -> None:
    owner = register(client)
    keys = [create_key(client, owner) for _ in range(5)]
    assert len(set(keys)) == 5
    assert len({key[8:16] for key in keys}) == 5


def test_a_key_with_an_expiry_in_the_future_is_created_with_it(client: TestClient) -> None:
    owner = register(client)
    expires_at = (datetime.now(UTC) + timedelta(days=90)).replace(microsecond=123000)
    created = _create(client, owner, expiresAt=expires_at.isoformat())
    assert created["expiresAt"] == expires_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert created["isActive"] is True
    assert client.get("/api/auth/me", headers=bearer(created["key"])).status_code == 200


@pytest.mark.parametrize(
    "expires_at",
    [
        pytest.param(lambda now: now - timedelta(days=1), id="yesterday"),
        pytest.param(lambda now: now - timedelta(microseconds=1), id="a microsecond ago"),
        pytest.param(lambda now: now, id="now"),
    ],
)
def test_an_expiry_that_is_not_in_the_future_is_refused(client: TestClient, expires_at: Any) -> None:
    now = datetime(2031, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        owner = register(client)
        response = client.post(
            KEYS, json={"name": "ci", "expiresAt": expires_at(now).isoformat()}, headers=owner.headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_error"
        assert [detail["field"] for detail in response.json()["details"]] == ["expiresAt"]
        assert _listed(client, owner) == []


def test_an_expiry_that_is_not_a_date_is_refused(client: TestClient) -> None:
    owner = register(client)
    response = client.post(KEYS, json={"name": "ci", "expiresAt": "next tuesday"}, headers=owner.headers)
    assert response.status_code == 422
    assert [detail["field"] for detail in response.json()["details"]] == ["expiresAt"]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("  github-actions-ci  ", "github-actions-ci"),
        ("\tstaging\n", "staging"),
        ("x" * 100, "x" * 100),
        (" " + "y" * 100 + " ", "y" * 100),
    ],
)
def test_a_key_name_is_trimmed(client: TestClient, sent: str, stored: str) -> None:
    owner = register(client)
    assert _create(client, owner, name=sent)["name"] == stored
    assert _listed(client, owner)[0]["name"] == stored


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, None])
def test_a_key_name_that_is_empty_or_longer_than_100_is_refused(client: TestClient, name: str | None) -> None:
    owner = register(client)
    response = client.post(KEYS, json={"name": name}, headers=owner.headers)
    assert response.status_code == 422, response.text
    assert [detail["field"] for detail in response.json()["details"]] == ["name"]
    assert _listed(client, owner) == []


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_create_a_key_that_acts_as_them(client: TestClient, database: Database, role: str) -> None:
    owner = register(client)
    account = _account_with_role(client, database, owner, role)
    created = _create(client, account)
    assert created["user"]["id"] == account.user_id
    me = client.get("/api/auth/me", headers=bearer(created["key"])).json()
    assert (me["id"], me["role"]) == (account.user_id, role)


def test_creating_a_key_needs_a_credential(client: TestClient) -> None:
    assert_unauthorized(client.post(KEYS, json={"name": "ci"}), "unauthenticated")


def test_creating_and_revoking_are_audited(client: TestClient) -> None:
    owner = register(client)
    created = _create(client, owner, name="audited")
    client.delete(f"{KEYS}/{created['id']}", headers=owner.headers)
    entries = client.get("/api/audit?resourceType=api_key", headers=owner.headers).json()
    assert [(entry["action"], entry["resourceId"]) for entry in entries] == [
        ("apikey.revoke", created["id"]),
        ("apikey.create", created["id"]),
    ]


# --- list ---------------------------------------------------------------------------------------


def test_keys_are_listed_newest_first_without_the_key(client: TestClient) -> None:
    owner = register(client)
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        created = []
        for name in ("first", "second", "third"):
            created.append(_create(client, owner, name=name))
            traveller.shift(timedelta(milliseconds=1))

    listed = _listed(client, owner)

    assert [key["name"] for key in listed] == ["third", "second", "first"]
    for key, original in zip(listed, reversed(created), strict=True):
        assert set(key) == KEY_FIELDS
        assert key == {field: original[field] for field in KEY_FIELDS}


def test_revoked_keys_are_listed_only_when_asked_for(client: TestClient) -> None:
    owner = register(client)
    kept = _create(client, owner, name="kept")
    revoked = _create(client, owner, name="revoked")
    assert client.delete(f"{KEYS}/{revoked['id']}", headers=owner.headers).status_code == 200

    assert [key["id"] for key in _listed(client, owner)] == [kept["id"]]
    assert [key["id"] for key in _listed(client, owner, "?includeRevoked=false")] == [kept["id"]]
    everything = _listed(client, owner, "?includeRevoked=true")
    assert [key["id"] for key in everything] == [revoked["id"], kept["id"]]
    assert everything[0]["isActive"] is False
    assert TIMESTAMP.match(everything[0]["revokedAt"])
    assert everything[1]["isActive"] is True
    assert everything[1]["revokedAt"] is None


@pytest.mark.parametrize("role", ["OWNER", "ADMIN"])
def test_owners_and_admins_see_every_key_of_the_org(client: TestClient, database: Database, role: str) -> None:
    owner = register(client)
    caller = _account_with_role(client, database, owner, role)
    others = [add_member(client, database, owner, other) for other in ROLES[1:]]
    expected = {_create(client, account)["id"] for account in [owner, caller, *others]}

    assert {key["id"] for key in _listed(client, caller)} == expected


@pytest.mark.parametrize("role", ["MEMBER", "VIEWER"])
def test_members_and_viewers_see_only_their_own_keys(client: TestClient, database: Database, role: str) -> None:
    owner = register(client)
    caller = add_member(client, database, owner, role)
    other = add_member(client, database, owner, role)
    _create(client, owner)
    _create(client, other)
    own = _create(client, caller)

    listed = _listed(client, caller)

    assert [key["id"] for key in listed] == [own["id"]]
    assert listed[0]["user"]["id"] == caller.user_id


def test_another_orgs_keys_are_invisible_even_to_its_owner(client: TestClient) -> None:
    mine, theirs = register(client), register(client)
    their_key = _create(client, theirs)
    _create(client, mine)

    assert their_key["id"] not in {key["id"] for key in _listed(client, mine, "?includeRevoked=true")}
    response = client.delete(f"{KEYS}/{their_key['id']}", headers=mine.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client.get("/api/auth/me", headers=bearer(their_key["key"])).status_code == 200


def test_a_removed_members_keys_stay_listed_for_the_owner_as_a_record(client: TestClient, database: Database) -> None:
    owner = register(client)
    member = add_member(client, database, owner, "MEMBER")
    created = _create(client, member)
    set_role(database, member.user_id, None)
    assert created["id"] in {key["id"] for key in _listed(client, owner)}


# --- revoke -------------------------------------------------------------------------------------


def test_revoking_answers_success_and_the_key_is_refused_at_once(client: TestClient) -> None:
    owner = register(client)
    created = _create(client, owner)
    key = bearer(created["key"])
    assert client.get("/api/agents", headers=key).status_code == 200

    response = client.delete(f"{KEYS}/{created['id']}", headers=owner.headers)

    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert_unauthorized(client.get("/api/agents", headers=key), "api_key_revoked")
    assert_unauthorized(client.get("/api/auth/me", headers=key), "api_key_revoked")
    assert_unauthorized(client.post(KEYS, json={"name": "escape"}, headers=key), "api_key_revoked")


def test_revoking_twice_is_harmless_and_keeps_the_first_revocation_time(client: TestClient) -> None:
    owner = register(client)
    created = _create(client, owner)
    path = f"{KEYS}/{created['id']}"
    assert client.delete(path, headers=owner.headers).json() == {"success": True}
    first = _listed(client, owner, "?includeRevoked=true")[0]["revokedAt"]

    again = client.delete(path, headers=owner.headers)

    assert (again.status_code, again.json()) == (200, {"success": True})
    assert _listed(client, owner, "?includeRevoked=true")[0]["revokedAt"] == first
    assert_unauthorized(client.get("/api/auth/me", headers=bearer(created["key"])), "api_key_revoked")


def test_a_key_may_revoke_itself(client: TestClient) -> None:
    owner = register(client)
    created = _create(client, owner)
    key = bearer(created["key"])
    assert client.delete(f"{KEYS}/{created['id']}", headers=key).json() == {"success": True}
    assert_unauthorized(client.get("/api/auth/me", headers=key), "api_key_revoked")


@pytest.mark.parametrize("key_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "x" * 300])
def test_revoking_an_unknown_key_is_not_found(client: TestClient, key_id: str) -> None:
    owner = register(client)
    response = client.delete(f"{KEYS}/{key_id}", headers=owner.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("method", ["PATCH", "PUT", "POST"])
def test_no_route_reactivates_a_revoked_key(client: TestClient, method: str) -> None:
    owner = register(client)
    created = _create(client, owner)
    path = f"{KEYS}/{created['id']}"
    client.delete(path, headers=owner.headers)

    for body in (
        {"isActive": True},
        {"revokedAt": None},
        {"isActive": True, "revokedAt": None, "name": "ci"},
    ):
        response = client.request(method, path, json=body, headers=owner.headers)
        assert response.status_code in (404, 405), response.text
    for suffix in ("/activate", "/reactivate", "/restore", "/enable"):
        response = client.request(method, path + suffix, json={}, headers=owner.headers)
        assert response.status_code in (404, 405), response.text

    assert_unauthorized(client.get("/api/auth/me", headers=bearer(created["key"])), "api_key_revoked")
    listed = _listed(client, owner, "?includeRevoked=true")
    assert (listed[0]["isActive"], listed[0]["revokedAt"] is not None) == (False, True)


@pytest.mark.parametrize("role", ["OWNER", "ADMIN"])
def test_owners_and_admins_revoke_anyones_key(client: TestClient, database: Database, role: str) -> None:
    owner = register(client)
    caller = _account_with_role(client, database, owner, role)
    member = add_member(client, database, owner, "MEMBER")
    created = _create(client, member)

    response = client.delete(f"{KEYS}/{created['id']}", headers=caller.headers)

    assert (response.status_code, response.json()) == (200, {"success": True})
    assert_unauthorized(client.get("/api/auth/me", headers=bearer(created["key"])), "api_key_revoked")


@pytest.mark.parametrize("role", ["MEMBER", "VIEWER"])
def test_members_and_viewers_revoke_their_own_key_only(client: TestClient, database: Database, role: str) -> None:
    owner = register(client)
    caller = add_member(client, database, owner, role)
    colleague = add_member(client, database, owner, role)
    others = [_create(client, owner), _create(client, colleague)]
    own = _create(client, caller)

    for other in others:
        response = client.delete(f"{KEYS}/{other['id']}", headers=caller.headers)
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not_found"
        assert client.get("/api/auth/me", headers=bearer(other["key"])).status_code == 200

    assert client.delete(f"{KEYS}/{own['id']}", headers=caller.headers).json() == {"success": True}
    assert_unauthorized(client.get("/api/auth/me", headers=bearer(own["key"])), "api_key_revoked")


def test_a_revoked_keys_creator_keeps_their_other_keys(client: TestClient) -> None:
    owner = register(client)
    revoked, kept = _create(client, owner, name="old"), _create(client, owner, name="new")
    client.delete(f"{KEYS}/{revoked['id']}", headers=owner.headers)
    assert client.get("/api/auth/me", headers=bearer(kept["key"])).json()["apiKey"]["id"] == kept["id"]
