"""Agents as the contract words them: create, list, get, edit, archive, get-or-create."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Account, audit_entries, create_agent, register

AGENT_FIELDS = {
    "id",
    "orgId",
    "name",
    "slug",
    "description",
    "tags",
    "modelFamily",
    "status",
    "createdById",
    "createdAt",
    "updatedAt",
}
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def owner(client: TestClient) -> Account:
    return register(client)


def post(client: TestClient, owner: Account, **body: Any) -> Any:
    return client.post("/api/agents", json=body, headers=owner.headers)


def listed(client: TestClient, owner: Account, **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/agents", params=params, headers=owner.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


# --- create -------------------------------------------------------------------------------------


def test_creating_an_agent_answers_201_with_the_contracts_fields(client: TestClient, owner: Account) -> None:
    response = post(
        client,
        owner,
        name="Support Bot",
        slug="support-bot",
        description="Answers tickets",
        tags=["support", "eu"],
        modelFamily="claude",
    )
    assert response.status_code == 201, response.text
    agent = response.json()
    assert set(agent) == AGENT_FIELDS
    assert UUID.match(agent["id"])
    assert agent["orgId"] == owner.org_id
    assert agent["createdById"] == owner.user_id
    assert (agent["name"], agent["slug"], agent["description"]) == ("Support Bot", "support-bot", "Answers tickets")
    assert (agent["tags"], agent["modelFamily"], agent["status"]) == (["support", "eu"], "claude", "ACTIVE")
    assert ISO_UTC.match(agent["createdAt"]) and ISO_UTC.match(agent["updatedAt"])
    assert client.get(f"/api/agents/{agent['id']}", headers=owner.headers).json() == agent


def test_optional_fields_default_to_empty(client: TestClient, owner: Account) -> None:
    agent = post(client, owner, name="Bare", slug="bare").json()
    assert (agent["description"], agent["tags"], agent["modelFamily"]) == (None, [], None)


def test_a_slug_taken_in_the_org_is_a_409_and_creates_nothing(client: TestClient, owner: Account) -> None:
    first = post(client, owner, name="Support", slug="support").json()
    response = post(client, owner, name="Another", slug="support")
    assert response.status_code == 409
    assert set(response.json()) >= {"error", "code"}
    assert [agent["id"] for agent in listed(client, owner)] == [first["id"]]


def test_the_same_slug_in_another_org_is_fine(client: TestClient, owner: Account) -> None:
    post(client, owner, name="Support", slug="support")
    assert post(client, register(client), name="Support", slug="support").status_code == 201


def test_an_archived_agent_keeps_its_slug(client: TestClient, owner: Account) -> None:
    agent = post(client, owner, name="Support", slug="support").json()
    client.delete(f"/api/agents/{agent['id']}", headers=owner.headers)
    assert post(client, owner, name="Support 2", slug="support").status_code == 409


@pytest.mark.parametrize(
    "slug",
    ["Support", "support bot", "-support", "support-", "support_bot", "", "a" * 65, "süpport"],
)
def test_an_invalid_slug_is_a_422_naming_slug(client: TestClient, owner: Account, slug: str) -> None:
    response = post(client, owner, name="Support", slug=slug)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert [detail["field"] for detail in body["details"]] == ["slug"]
    assert listed(client, owner) == []


@pytest.mark.parametrize("slug", ["a", "a1", "support-bot-2", "a" * 64, "1-2-3"])
def test_a_valid_slug_is_accepted(client: TestClient, owner: Account, slug: str) -> None:
    assert post(client, owner, name="Support", slug=slug).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "slug": "a"}, "name"),
        ({"name": "   ", "slug": "a"}, "name"),
        ({"name": "n" * 201, "slug": "a"}, "name"),
        ({"slug": "a"}, "name"),
        ({"name": "A", "slug": "a", "tags": "not-a-list"}, "tags"),
        ({"name": "A", "slug": "a", "tags": [""]}, "tags.0"),
    ],
)
def test_an_invalid_create_field_is_named(client: TestClient, owner: Account, body: dict[str, Any], field: str) -> None:
    response = client.post("/api/agents", json=body, headers=owner.headers)
    assert response.status_code == 422
    assert [detail["field"] for detail in response.json()["details"]] == [field]


def test_names_and_tags_are_trimmed(client: TestClient, owner: Account) -> None:
    agent = post(client, owner, name="  Support  ", slug="support", tags=[" eu "]).json()
    assert (agent["name"], agent["tags"]) == ("Support", ["eu"])


# --- read ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("agent_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
def test_an_unknown_agent_is_404(client: TestClient, owner: Account, agent_id: str) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        kwargs: dict[str, Any] = {"json": {"name": "x"}} if method == "PATCH" else {}
        response = client.request(method, f"/api/agents/{agent_id}", headers=owner.headers, **kwargs)
        assert response.status_code == 404, method
        assert response.json()["code"] == "not_found"


def test_the_list_puts_the_most_recently_updated_first(client: TestClient, owner: Account) -> None:
    first = create_agent(client, owner.headers, name="first")
    second = create_agent(client, owner.headers, name="second")
    third = create_agent(client, owner.headers, name="third")
    assert [a["id"] for a in listed(client, owner)] == [third["id"], second["id"], first["id"]]

    client.patch(f"/api/agents/{first['id']}", json={"description": "touched"}, headers=owner.headers)
    assert [a["id"] for a in listed(client, owner)] == [first["id"], third["id"], second["id"]]

    client.delete(f"/api/agents/{second['id']}", headers=owner.headers)
    assert [a["id"] for a in listed(client, owner)] == [second["id"], first["id"], third["id"]]


def test_the_list_shows_each_agent_as_get_does(client: TestClient, owner: Account) -> None:
    agent = post(client, owner, name="Support", slug="support", tags=["a"], modelFamily="gpt").json()
    assert listed(client, owner) == [agent]


# --- edit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Renamed"},
        {"slug": "renamed"},
        {"description": "Now with a description"},
        {"tags": ["x", "y"]},
        {"modelFamily": "llama"},
        {"name": "Both", "slug": "both"},
    ],
)
def test_patch_changes_any_create_field_and_nothing_else(
    client: TestClient, owner: Account, change: dict[str, Any]
) -> None:
    agent = post(client, owner, name="Support", slug="support", description="d", tags=["t"], modelFamily="m").json()
    response = client.patch(f"/api/agents/{agent['id']}", json=change, headers=owner.headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated == {**agent, **change, "updatedAt": updated["updatedAt"]}
    assert updated["updatedAt"] > agent["updatedAt"]
    assert updated["createdAt"] == agent["createdAt"]
    assert client.get(f"/api/agents/{agent['id']}", headers=owner.headers).json() == updated


@pytest.mark.parametrize("field", ["description", "modelFamily"])
def test_patch_clears_an_optional_field_with_null(client: TestClient, owner: Account, field: str) -> None:
    agent = post(client, owner, name="Support", slug="support", description="d", modelFamily="m").json()
    response = client.patch(f"/api/agents/{agent['id']}", json={field: None}, headers=owner.headers)
    assert response.status_code == 200
    assert response.json()[field] is None


@pytest.mark.parametrize("field", ["name", "slug", "tags"])
def test_patch_refuses_null_for_a_required_field(client: TestClient, owner: Account, field: str) -> None:
    agent = post(client, owner, name="Support", slug="support").json()
    response = client.patch(f"/api/agents/{agent['id']}", json={field: None}, headers=owner.headers)
    assert response.status_code == 422
    assert [detail["field"] for detail in response.json()["details"]] == [field]
    assert client.get(f"/api/agents/{agent['id']}", headers=owner.headers).json() == agent


def test_patch_to_a_taken_slug_is_409_and_changes_nothing(client: TestClient, owner: Account) -> None:
    post(client, owner, name="Taken", slug="taken")
    agent = post(client, owner, name="Support", slug="support").json()
    response = client.patch(
        f"/api/agents/{agent['id']}", json={"slug": "taken", "name": "Changed"}, headers=owner.headers
    )
    assert response.status_code == 409
    assert client.get(f"/api/agents/{agent['id']}", headers=owner.headers).json() == agent


def test_patch_to_its_own_slug_is_fine(client: TestClient, owner: Account) -> None:
    agent = post(client, owner, name="Support", slug="support").json()
    response = client.patch(f"/api/agents/{agent['id']}", json={"slug": "support"}, headers=owner.headers)
    assert response.status_code == 200
    assert response.json() == agent


def test_patch_with_an_invalid_slug_is_422(client: TestClient, owner: Account) -> None:
    agent = post(client, owner, name="Support", slug="support").json()
    response = client.patch(f"/api/agents/{agent['id']}", json={"slug": "Not Valid"}, headers=owner.headers)
    assert response.status_code == 422
    assert [detail["field"] for detail in response.json()["details"]] == ["slug"]


# --- archive ------------------------------------------------------------------------------------


def test_delete_archives_and_the_status_filter_shows_it(client: TestClient, owner: Account) -> None:
    kept = create_agent(client, owner.headers)
    archived = create_agent(client, owner.headers)
    response = client.delete(f"/api/agents/{archived['id']}", headers=owner.headers)
    assert response.status_code == 200
    assert response.json() == {"success": True}

    stored = client.get(f"/api/agents/{archived['id']}", headers=owner.headers).json()
    assert stored["status"] == "ARCHIVED"
    assert [a["id"] for a in listed(client, owner, status="ARCHIVED")] == [archived["id"]]
    assert [a["id"] for a in listed(client, owner, status="ACTIVE")] == [kept["id"]]


def test_archiving_twice_is_harmless_and_recorded_once(client: TestClient, owner: Account) -> None:
    agent = create_agent(client, owner.headers)
    assert client.delete(f"/api/agents/{agent['id']}", headers=owner.headers).status_code == 200
    assert client.delete(f"/api/agents/{agent['id']}", headers=owner.headers).json() == {"success": True}
    assert len(audit_entries(client, owner.headers, action="agent.archive")) == 1


def test_an_archived_agent_can_still_be_edited(client: TestClient, owner: Account) -> None:
    agent = create_agent(client, owner.headers)
    client.delete(f"/api/agents/{agent['id']}", headers=owner.headers)
    response = client.patch(f"/api/agents/{agent['id']}", json={"description": "retired"}, headers=owner.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "ARCHIVED"


# --- get-or-create ------------------------------------------------------------------------------


def get_or_create(client: TestClient, owner: Account, **body: Any) -> Any:
    return client.post("/api/agents/get-or-create", json=body, headers=owner.headers)


def test_get_or_create_creates_then_finds(client: TestClient, owner: Account) -> None:
    created = get_or_create(client, owner, name="Support Bot", tags=["eu"], modelFamily="claude")
    assert created.status_code == 201
    agent = created.json()
    assert set(agent) == AGENT_FIELDS
    assert (agent["name"], agent["slug"], agent["tags"], agent["modelFamily"]) == (
        "Support Bot",
        "support-bot",
        ["eu"],
        "claude",
    )
    found = get_or_create(client, owner, name="Support Bot")
    assert found.status_code == 200
    assert found.json() == agent
    assert len(listed(client, owner)) == 1


@pytest.mark.parametrize("same_name", ["support bot", "  SUPPORT   Bot ", "Support-Bot", "Support Bot!"])
def test_get_or_create_matches_on_the_slug_of_the_name(client: TestClient, owner: Account, same_name: str) -> None:
    agent = get_or_create(client, owner, name="Support Bot").json()
    response = get_or_create(client, owner, name=same_name, description="ignored")
    assert response.status_code == 200
    assert response.json() == agent  # found as it is: nothing overwritten
    assert len(listed(client, owner)) == 1


def test_get_or_create_finds_an_agent_created_with_that_slug(client: TestClient, owner: Account) -> None:
    agent = post(client, owner, name="Whatever", slug="support-bot").json()
    response = get_or_create(client, owner, name="Support Bot")
    assert response.status_code == 200
    assert response.json()["id"] == agent["id"]


def test_get_or_create_of_a_different_name_creates_another(client: TestClient, owner: Account) -> None:
    first = get_or_create(client, owner, name="Support Bot").json()
    second = get_or_create(client, owner, name="Support Bot 2")
    assert second.status_code == 201
    assert second.json()["id"] != first["id"]


def test_get_or_create_never_finds_another_orgs_agent(client: TestClient, owner: Account) -> None:
    theirs = get_or_create(client, register(client), name="Support Bot").json()
    mine = get_or_create(client, owner, name="Support Bot")
    assert mine.status_code == 201
    assert mine.json()["id"] != theirs["id"]
    assert mine.json()["orgId"] == owner.org_id


@pytest.mark.parametrize("name", ["!!!", "   ", ""])
def test_get_or_create_needs_a_name_with_a_letter_or_digit(client: TestClient, owner: Account, name: str) -> None:
    response = get_or_create(client, owner, name=name)
    assert response.status_code == 422
    assert [detail["field"] for detail in response.json()["details"]] == ["name"]
    assert listed(client, owner) == []


def test_get_or_create_of_a_long_name_makes_a_valid_slug(client: TestClient, owner: Account) -> None:
    agent = get_or_create(client, owner, name="An Agent With A Rather Long Name " * 5).json()
    assert re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", agent["slug"])
    assert get_or_create(client, owner, name="An Agent With A Rather Long Name " * 5).status_code == 200
