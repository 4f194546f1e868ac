"""A key's access (full, read, ingest): chosen at creation, shown on the key, and what the key then acts with.

Every route, access and role together is the permission table's test (tests/auth); here, that the key carries
the access it was created with into each request.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import Account, add_member, bearer, register, unique

KEYS = "/api/org/keys"


def _create(client: TestClient, account: Account, **body: Any) -> dict[str, Any]:
    response = client.post(KEYS, json={"name": "ci", **body}, headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_key_is_full_unless_asked_otherwise_and_says_so(client: TestClient) -> None:
    owner = register(client)
    created = _create(client, owner)
    assert created["access"] == "full"
    assert created["rolledToId"] is None
    assert created["revokedReason"] is None
    (listed,) = client.get(KEYS, headers=owner.headers).json()
    assert listed["access"] == "full"


@pytest.mark.parametrize("access", ["full", "read", "ingest"])
def test_the_access_asked_for_is_kept_and_listed(client: TestClient, access: str) -> None:
    owner = register(client)
    created = _create(client, owner, access=access)
    assert created["access"] == access
    (listed,) = client.get(KEYS, headers=owner.headers).json()
    assert listed["access"] == access


@pytest.mark.parametrize("access", ["write", "FULL", "", None, 1, ["read"], "read "])
def test_any_other_access_is_refused_naming_access(client: TestClient, access: Any) -> None:
    owner = register(client)
    response = client.post(KEYS, json={"name": "ci", "access": access}, headers=owner.headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert [detail["field"] for detail in response.json()["details"]] == ["access"]
    assert client.get(KEYS, headers=owner.headers).json() == []


def test_a_read_key_of_an_owner_reads_but_does_not_write(client: TestClient) -> None:
    owner = register(client)
    key = bearer(_create(client, owner, access="read")["key"])
    assert client.get("/api/agents", headers=key).status_code == 200
    refused = client.post("/api/agents", json={"name": "bot", "slug": unique("bot")}, headers=key)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "forbidden"
    assert client.get("/api/agents", headers=owner.headers).json() == []


def test_an_ingest_key_ingests_but_does_not_list_agents(client: TestClient) -> None:
    owner = register(client)
    key = bearer(_create(client, owner, access="ingest")["key"])
    agent = client.post("/api/agents/get-or-create", json={"name": "support-bot"}, headers=key)
    assert agent.status_code == 201, agent.text
    session = client.post("/api/sessions", json={"agentId": agent.json()["id"]}, headers=key)
    assert session.status_code == 201, session.text
    assert client.get("/api/agents", headers=key).status_code == 403


def test_me_shows_the_key_whatever_its_access(client: TestClient) -> None:
    owner = register(client)
    for access in ("read", "ingest"):
        created = _create(client, owner, name=f"{access}-key", access=access)
        me = client.get("/api/auth/me", headers=bearer(created["key"]))
        assert me.status_code == 200, me.text
        assert me.json()["apiKey"] == {"id": created["id"], "name": f"{access}-key"}


@pytest.mark.parametrize("access", ["read", "ingest"])
def test_a_narrowed_key_cannot_mint_keys_revoke_or_roll(client: TestClient, access: str) -> None:
    """Otherwise a read key could create a full one: key management needs a JWT or a full key."""
    owner = register(client)
    narrowed = _create(client, owner, access=access)
    other = _create(client, owner, name="other")
    key = bearer(narrowed["key"])
    for response in (
        client.post(KEYS, json={"name": "escalated"}, headers=key),
        client.delete(f"{KEYS}/{other['id']}", headers=key),
        client.post(f"{KEYS}/{other['id']}/roll", json={}, headers=key),
    ):
        assert response.status_code == 403, response.text
    assert len(client.get(KEYS, headers=owner.headers).json()) == 2
    assert all(listed["revokedAt"] is None for listed in client.get(KEYS, headers=owner.headers).json())


def test_a_full_key_of_a_viewer_still_only_reads(client: TestClient, database: Database) -> None:
    owner = register(client)
    viewer = add_member(client, database, owner, "VIEWER")
    key = bearer(_create(client, viewer, access="full")["key"])
    assert client.get("/api/agents", headers=key).status_code == 200
    assert client.post("/api/agents", json={"name": "bot", "slug": unique("bot")}, headers=key).status_code == 403


def test_the_access_is_audited_with_the_key(client: TestClient) -> None:
    owner = register(client)
    created = _create(client, owner, access="ingest")
    (entry,) = client.get("/api/audit", params={"action": "apikey.create"}, headers=owner.headers).json()
    assert entry["after"]["access"] == "ingest"
    assert entry["after"]["id"] == created["id"]
