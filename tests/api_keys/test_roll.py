"""POST /api/org/keys/{id}/roll: a new key shown once, the old one working for the grace period and then
answering api_key_expired; 409 for a key that cannot be rolled; who may roll; audited; all or nothing."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from provenant.db import Database
from provenant.models import ApiKey
from tests.factories import Account, add_member, assert_unauthorized, bearer, register

KEYS = "/api/org/keys"
START = datetime(2031, 3, 1, 12, 0, 0, tzinfo=UTC)
WEEK = 7 * 24 * 3600


def _z(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _create(client: TestClient, account: Account, **body: Any) -> dict[str, Any]:
    response = client.post(KEYS, json={"name": "prod-ingestion", **body}, headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _roll(client: TestClient, account: Account, key_id: str, **body: Any) -> Any:
    return client.post(f"{KEYS}/{key_id}/roll", json=body, headers=account.headers)


def _listed(client: TestClient, account: Account, key_id: str) -> dict[str, Any]:
    keys = client.get(f"{KEYS}?includeRevoked=true&limit=200", headers=account.headers).json()
    return dict(next(key for key in keys if key["id"] == key_id))


def test_the_new_key_is_shown_once_with_the_old_ones_name_access_and_expiry(client: TestClient) -> None:
    with time_machine.travel(START, tick=False):
        owner = register(client)
        expires_at = START + timedelta(days=90)
        old = _create(client, owner, access="ingest", expiresAt=_z(expires_at))

        response = _roll(client, owner, old["id"], graceSeconds=3600)

        assert response.status_code == 201, response.text
        new = response.json()
        assert re.fullmatch(r"pk_live_[0-9a-f]{32}", new["key"])
        assert new["key"] != old["key"] and new["id"] != old["id"]
        assert new["keyPrefix"] == new["key"][8:16]
        assert (new["name"], new["access"], new["expiresAt"]) == ("prod-ingestion", "ingest", _z(expires_at))
        assert new["user"] == old["user"]
        assert (new["isActive"], new["rolledToId"], new["revokedAt"], new["lastUsedAt"]) == (True, None, None, None)
        listed_old = _listed(client, owner, old["id"])
        assert listed_old["rolledToId"] == new["id"]
        assert listed_old["expiresAt"] == _z(START + timedelta(hours=1))
        assert listed_old["isActive"] is True
        assert "key" not in _listed(client, owner, new["id"])


def test_the_old_key_works_until_the_grace_period_ends_then_is_expired(client: TestClient) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        owner = register(client)
        old = _create(client, owner)
        new = _roll(client, owner, old["id"], graceSeconds=86400).json()

        traveller.shift(timedelta(hours=24) - timedelta(microseconds=1))
        assert client.get("/api/agents", headers=bearer(old["key"])).status_code == 200
        traveller.shift(timedelta(microseconds=1))
        assert_unauthorized(client.get("/api/agents", headers=bearer(old["key"])), "api_key_expired")
        assert client.get("/api/agents", headers=bearer(new["key"])).status_code == 200
        assert _listed(client, owner, old["id"])["isActive"] is False


@pytest.mark.parametrize("body", [{}, {"graceSeconds": 0}])
def test_without_a_grace_period_the_old_key_stops_at_once(client: TestClient, body: dict[str, Any]) -> None:
    owner = register(client)
    old = _create(client, owner)
    new = client.post(f"{KEYS}/{old['id']}/roll", json=body, headers=owner.headers).json()
    assert_unauthorized(client.get("/api/auth/me", headers=bearer(old["key"])), "api_key_expired")
    assert client.get("/api/auth/me", headers=bearer(new["key"])).status_code == 200


def test_a_roll_without_a_body_means_no_grace_period(client: TestClient) -> None:
    owner = register(client)
    old = _create(client, owner)
    response = client.post(f"{KEYS}/{old['id']}/roll", headers=owner.headers)
    assert response.status_code == 201, response.text
    assert_unauthorized(client.get("/api/auth/me", headers=bearer(old["key"])), "api_key_expired")


def test_an_earlier_expiry_of_the_old_key_is_kept(client: TestClient) -> None:
    with time_machine.travel(START, tick=False):
        owner = register(client)
        old = _create(client, owner, expiresAt=_z(START + timedelta(hours=2)))
        new = _roll(client, owner, old["id"], graceSeconds=WEEK).json()
        assert _listed(client, owner, old["id"])["expiresAt"] == _z(START + timedelta(hours=2))
        assert new["expiresAt"] == _z(START + timedelta(hours=2))


@pytest.mark.parametrize("grace", [-1, WEEK + 1, "3600", 1.5, None, True])
def test_a_grace_period_outside_0_to_7_days_is_refused_naming_it(client: TestClient, grace: Any) -> None:
    owner = register(client)
    old = _create(client, owner)
    response = _roll(client, owner, old["id"], graceSeconds=grace)
    assert response.status_code == 422, response.text
    assert [detail["field"] for detail in response.json()["details"]] == ["graceSeconds"]
    listed = client.get(KEYS, headers=owner.headers).json()
    assert [(key["id"], key["rolledToId"], key["expiresAt"]) for key in listed] == [(old["id"], None, None)]


def test_a_grace_period_of_exactly_7_days_is_accepted(client: TestClient) -> None:
    with time_machine.travel(START, tick=False):
        owner = register(client)
        old = _create(client, owner)
        assert _roll(client, owner, old["id"], graceSeconds=WEEK).status_code == 201
        assert _listed(client, owner, old["id"])["expiresAt"] == _z(START + timedelta(days=7))


# --- what cannot be rolled ------------------------------------------------------------------------


def test_a_revoked_key_cannot_be_rolled(client: TestClient) -> None:
    owner = register(client)
    old = _create(client, owner)
    assert client.delete(f"{KEYS}/{old['id']}", headers=owner.headers).status_code == 200
    response = _roll(client, owner, old["id"])
    assert response.status_code == 409
    assert response.json()["code"] == "api_key_revoked"


def test_an_expired_key_cannot_be_rolled(client: TestClient) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        owner = register(client)
        old = _create(client, owner, expiresAt=_z(START + timedelta(days=1)))
        traveller.shift(timedelta(days=1))
        response = _roll(client, owner, old["id"])
        assert response.status_code == 409
        assert response.json()["code"] == "api_key_expired"


def test_a_key_is_rolled_once_and_then_its_replacement_is_rolled(client: TestClient) -> None:
    owner = register(client)
    first = _create(client, owner)
    second = _roll(client, owner, first["id"], graceSeconds=600).json()

    again = _roll(client, owner, first["id"], graceSeconds=600)
    assert again.status_code == 409
    assert again.json()["code"] == "api_key_rolled"

    third = _roll(client, owner, second["id"], graceSeconds=600)
    assert third.status_code == 201, third.text
    assert _listed(client, owner, second["id"])["rolledToId"] == third.json()["id"]


@pytest.mark.parametrize("key_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_rolling_an_unknown_key_is_not_found(client: TestClient, key_id: str) -> None:
    owner = register(client)
    response = _roll(client, owner, key_id)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_rolling_needs_a_credential(client: TestClient) -> None:
    owner = register(client)
    old = _create(client, owner)
    assert_unauthorized(client.post(f"{KEYS}/{old['id']}/roll", json={}), "unauthenticated")


# --- who may roll ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["MEMBER", "VIEWER"])
def test_members_and_viewers_roll_their_own_keys_only(client: TestClient, database: Database, role: str) -> None:
    owner = register(client)
    person = add_member(client, database, owner, role)
    own = _create(client, person)
    owners = _create(client, owner)

    assert _roll(client, person, own["id"]).status_code == 201
    refused = _roll(client, person, owners["id"])
    assert refused.status_code == 404  # a key one may not see does not exist for them
    assert _listed(client, owner, owners["id"])["rolledToId"] is None


@pytest.mark.parametrize(("roller_role", "creator_role"), [("ADMIN", "OWNER"), ("ADMIN", "ADMIN"), ("OWNER", "MEMBER")])
@pytest.mark.parametrize("credential", ["jwt", "full key"])
def test_nobody_rolls_a_key_they_did_not_create_even_one_they_may_see_and_revoke(
    client: TestClient, database: Database, roller_role: str, creator_role: str, credential: str
) -> None:
    """Issue 24: an ADMIN rolled the OWNER's key, received a key acting as the OWNER, and made
    themselves OWNER with it. A roll hands over a credential acting as the key's creator, so only the
    creator rolls; the administrator who sees the key is told so and may still revoke it."""
    owner = register(client)
    admin = add_member(client, database, owner, "ADMIN", name="Ada")
    roller = owner if roller_role == "OWNER" else admin
    creator = owner if creator_role == "OWNER" else add_member(client, database, owner, creator_role, name="Mia")
    theirs = _create(client, creator)
    headers = roller.headers if credential == "jwt" else bearer(_create(client, roller, name="roller's")["key"])
    assert theirs["id"] in {key["id"] for key in client.get(KEYS, headers=headers).json()}  # they see it

    refused = client.post(f"{KEYS}/{theirs['id']}/roll", json={"graceSeconds": 60}, headers=headers)

    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "forbidden"
    assert "pk_live_" not in refused.text
    assert _listed(client, creator, theirs["id"])["rolledToId"] is None
    assert _listed(client, creator, theirs["id"])["expiresAt"] is None
    with database.transaction(writes=False) as session:
        assert session.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.user_id == creator.user_id)) == 1
    assert client.get("/api/audit?action=apikey.roll", headers=owner.headers).json() == []
    # What an administrator may do with it: revoke it. Its creator rolls it.
    assert client.delete(f"{KEYS}/{theirs['id']}", headers=headers).status_code == 200
    assert _roll(client, creator, theirs["id"]).json()["code"] == "api_key_revoked"


def test_the_owners_key_cannot_be_turned_into_an_admins_promotion(client: TestClient, database: Database) -> None:
    """The probe's path end to end: whatever the ADMIN tries with the OWNER's key, they stay ADMIN."""
    owner = register(client)
    admin = add_member(client, database, owner, "ADMIN")
    owners = _create(client, owner)

    rolled = _roll(client, admin, owners["id"], graceSeconds=60)

    assert rolled.status_code == 403
    promoted = client.patch(f"/api/org/members/{admin.user_id}/role", json={"role": "OWNER"}, headers=admin.headers)
    assert promoted.status_code == 403
    me = client.get("/api/auth/me", headers=admin.headers).json()
    assert me["role"] == "ADMIN"
    assert client.get("/api/auth/me", headers=bearer(owners["key"])).json()["id"] == owner.user_id


@pytest.mark.parametrize("role", ["OWNER", "ADMIN", "MEMBER", "VIEWER"])
def test_every_role_rolls_its_own_key_and_the_new_key_acts_as_them(
    client: TestClient, database: Database, role: str
) -> None:
    owner = register(client)
    person = owner if role == "OWNER" else add_member(client, database, owner, role)
    own = _create(client, person, access="read")

    response = _roll(client, person, own["id"], graceSeconds=60)

    assert response.status_code == 201, response.text
    assert response.json()["user"]["id"] == person.user_id
    me = client.get("/api/auth/me", headers=bearer(response.json()["key"])).json()
    assert (me["id"], me["role"]) == (person.user_id, role)


def test_another_orgs_key_cannot_be_rolled(client: TestClient) -> None:
    owner = register(client)
    stranger = register(client)
    theirs = _create(client, stranger)
    assert _roll(client, owner, theirs["id"]).status_code == 404
    assert _listed(client, stranger, theirs["id"])["rolledToId"] is None


# --- the limit, the audit log, all or nothing -----------------------------------------------------


def test_rolling_at_100_active_keys_does_not_count_the_key_being_rolled(client: TestClient) -> None:
    owner = register(client)
    ids = [_create(client, owner, name=f"key-{n}")["id"] for n in range(100)]
    assert client.post(KEYS, json={"name": "one-too-many"}, headers=owner.headers).status_code == 409

    response = _roll(client, owner, ids[0], graceSeconds=3600)

    assert response.status_code == 201, response.text


def test_a_roll_that_would_exceed_the_limit_changes_nothing(client: TestClient, database: Database) -> None:
    """100 active keys plus one in its grace period: rolling another would make 101 active besides it."""
    owner = register(client)
    ids = [_create(client, owner, name=f"key-{n}")["id"] for n in range(100)]
    assert _roll(client, owner, ids[0], graceSeconds=3600).status_code == 201  # 101 active, one of them leaving

    response = _roll(client, owner, ids[1], graceSeconds=3600)

    assert response.status_code == 409
    assert response.json()["code"] == "key_limit_reached"
    assert _listed(client, owner, ids[1])["rolledToId"] is None
    assert _listed(client, owner, ids[1])["expiresAt"] is None
    with database.transaction(writes=False) as session:
        assert session.scalar(select(func.count()).select_from(ApiKey)) == 101
    assert [e["resourceId"] for e in client.get("/api/audit?action=apikey.roll", headers=owner.headers).json()] == [
        ids[0]
    ]


def test_a_roll_is_audited_with_both_ids(client: TestClient) -> None:
    owner = register(client)
    old = _create(client, owner, access="read")
    new = _roll(client, owner, old["id"], graceSeconds=600).json()

    (entry,) = client.get("/api/audit", params={"action": "apikey.roll"}, headers=owner.headers).json()

    assert (entry["resourceType"], entry["resourceId"]) == ("api_key", old["id"])
    assert entry["before"]["id"] == old["id"] and entry["before"]["rolledToId"] is None
    assert entry["after"]["rolledToId"] == new["id"]
    assert entry["after"]["newKey"]["id"] == new["id"]
    assert entry["after"]["newKey"]["access"] == "read"
    assert entry["user"]["id"] == owner.user_id
    text = str(entry)
    assert new["key"] not in text and new["key"][8:] not in text


def test_a_key_may_roll_itself(client: TestClient) -> None:
    """A deployment rotating its own credential, with nobody signed in."""
    owner = register(client)
    old = _create(client, owner)
    response = client.post(f"{KEYS}/{old['id']}/roll", json={"graceSeconds": 60}, headers=bearer(old["key"]))
    assert response.status_code == 201, response.text
    assert client.get("/api/auth/me", headers=bearer(response.json()["key"])).status_code == 200
