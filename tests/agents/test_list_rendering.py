"""The agent list answers the JSON the database keeps with each agent (Agent.listed, written by a trigger,
migration 0012): it must say exactly what the single-agent route, rendered by the AgentRead schema, says."""

import pytest
from fastapi.testclient import TestClient

from tests.factories import register

pytestmark = pytest.mark.both_databases  # the list's JSON is written in each dialect's SQL (migration 0012)


def test_every_listed_agent_is_byte_for_byte_what_get_agent_answers(client: TestClient) -> None:
    owner = register(client)
    bodies = [
        {"name": "Plain", "slug": "plain"},
        {
            "name": "Full “quoted” \\ agent",
            "slug": "full",
            "description": 'multi\nline "text" ☃',
            "tags": ["prod", "eu-west", "ü"],
            "modelFamily": "claude",
        },
    ]
    for body in bodies:
        assert client.post("/api/agents", json=body, headers=owner.headers).status_code == 201
    archived = client.post("/api/agents", json={"name": "Old", "slug": "old"}, headers=owner.headers).json()
    client.delete(f"/api/agents/{archived['id']}", headers=owner.headers)
    edited = client.get("/api/agents?limit=1", headers=owner.headers).json()[0]  # "old": each change shows
    change = {"name": "Old, renamed", "tags": ["kept"], "description": "now", "modelFamily": None}
    assert client.patch(f"/api/agents/{edited['id']}", json=change, headers=owner.headers).status_code == 200

    listed = client.get("/api/agents", headers=owner.headers)

    assert listed.headers["content-type"] == "application/json"
    for agent in listed.json():
        single = client.get(f"/api/agents/{agent['id']}", headers=owner.headers).json()
        assert agent == single
        assert list(agent) == list(single)  # same keys in the same order
    assert [a["slug"] for a in listed.json()] == ["old", "full", "plain"]  # most recently updated first
    assert listed.json()[0]["name"] == "Old, renamed"
    assert listed.json()[0]["status"] == "ARCHIVED"
    assert [a["slug"] for a in client.get("/api/agents?status=ARCHIVED", headers=owner.headers).json()] == ["old"]


def test_an_org_without_agents_lists_an_empty_array(client: TestClient) -> None:
    owner = register(client)
    response = client.get("/api/agents", headers=owner.headers)
    assert response.status_code == 200
    assert response.json() == []
