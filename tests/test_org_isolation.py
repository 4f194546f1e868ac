"""Another organization's agents, keys and audit entries are, to a caller, as if they did not exist.

Every route that takes an id answers 404 for another org's id and changes nothing; every list and
filter leaves other orgs out. The intruder is an OWNER, the role that may do the most.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Account, audit_entries, bearer, create_agent, create_key, key_headers, register


@dataclass
class Victim:
    owner: Account
    agent: dict[str, Any]
    key: str
    key_id: str


@pytest.fixture
def victim(client: TestClient) -> Victim:
    owner = register(client, name="Victim")
    agent = create_agent(client, owner.headers)
    client.patch(f"/api/agents/{agent['id']}", json={"description": "theirs"}, headers=owner.headers)
    key = create_key(client, owner, name="victims key")
    key_id = client.get("/api/org/keys", headers=owner.headers).json()[0]["id"]
    stored = client.get(f"/api/agents/{agent['id']}", headers=owner.headers).json()
    return Victim(owner, stored, key, key_id)


@pytest.fixture(params=["jwt", "api_key"])
def intruder(request: pytest.FixtureRequest, client: TestClient) -> dict[str, str]:
    """The headers of another org's OWNER, who has agents and keys of their own."""
    owner = register(client, name="Intruder")
    create_agent(client, owner.headers)
    key = key_headers(client, owner)
    return owner.headers if request.param == "jwt" else key


def assert_not_found(response: Any) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"


def test_another_orgs_agent_is_not_found_and_stays_unchanged(
    client: TestClient, victim: Victim, intruder: dict[str, str]
) -> None:
    agent_url = f"/api/agents/{victim.agent['id']}"
    assert_not_found(client.get(agent_url, headers=intruder))
    assert_not_found(client.patch(agent_url, json={"name": "Hijacked", "slug": "hijacked"}, headers=intruder))
    assert_not_found(client.delete(agent_url, headers=intruder))

    assert client.get(agent_url, headers=victim.owner.headers).json() == victim.agent


def test_the_answer_for_another_orgs_agent_is_the_answer_for_a_missing_one(
    client: TestClient, victim: Victim, intruder: dict[str, str]
) -> None:
    theirs = client.get(f"/api/agents/{victim.agent['id']}", headers=intruder)
    missing = client.get("/api/agents/00000000-0000-4000-8000-000000000000", headers=intruder)
    assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json())


def test_another_orgs_key_cannot_be_revoked_and_keeps_working(
    client: TestClient, victim: Victim, intruder: dict[str, str]
) -> None:
    assert_not_found(client.delete(f"/api/org/keys/{victim.key_id}", headers=intruder))
    assert client.get("/api/auth/me", headers=bearer(victim.key)).status_code == 200
    (key,) = client.get("/api/org/keys", headers=victim.owner.headers).json()
    assert (key["id"], key["isActive"], key["revokedAt"]) == (victim.key_id, True, None)


def test_lists_never_show_another_orgs_agents_keys_or_entries(
    client: TestClient, victim: Victim, intruder: dict[str, str]
) -> None:
    victims_ids = {victim.agent["id"], victim.key_id, victim.owner.user_id, victim.owner.org_id}
    readings = [
        client.get("/api/agents", headers=intruder),
        client.get("/api/agents", params={"status": "ACTIVE"}, headers=intruder),
        client.get("/api/org/keys", params={"includeRevoked": "true"}, headers=intruder),
        client.get("/api/audit", params={"limit": 200}, headers=intruder),
        client.get("/api/audit/export", headers=intruder),
    ]
    for response in readings:
        assert response.status_code == 200
        assert response.text not in ("[]", "")  # the intruder's own things are there
        for victims_id in victims_ids:
            assert victims_id not in response.text, response.request.url


@pytest.mark.parametrize("filter_name", ["resourceId", "userId"])
def test_audit_filters_on_another_orgs_ids_find_nothing(
    client: TestClient, victim: Victim, intruder: dict[str, str], filter_name: str
) -> None:
    value = victim.agent["id"] if filter_name == "resourceId" else victim.owner.user_id
    assert audit_entries(client, victim.owner.headers, **{filter_name: value})  # they exist
    assert audit_entries(client, intruder, **{filter_name: value}) == []
    exported = client.get("/api/audit/export", params={filter_name: value}, headers=intruder)
    assert (exported.status_code, exported.text) == (200, "")


def test_get_or_create_in_another_org_makes_its_own_agent(
    client: TestClient, victim: Victim, intruder: dict[str, str]
) -> None:
    response = client.post("/api/agents/get-or-create", json={"name": victim.agent["name"]}, headers=intruder)
    assert response.status_code == 201
    assert response.json()["id"] != victim.agent["id"]
    assert client.get(f"/api/agents/{victim.agent['id']}", headers=victim.owner.headers).json() == victim.agent
