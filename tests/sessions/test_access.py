"""Who may do what with sessions: org scoping on every route, and the role table of api.md."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import Account, add_member, bearer, create_agent, create_key, register
from tests.sessions.factories import add_turn, start_session


def _every_route(session_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", f"/api/sessions/{session_id}", None),
        ("POST", f"/api/sessions/{session_id}/turns", {"role": "USER", "content": "intruder"}),
        ("POST", f"/api/sessions/{session_id}/end", {"status": "FAILED"}),
        ("PATCH", f"/api/sessions/{session_id}", {"status": "FAILED"}),
        ("DELETE", f"/api/sessions/{session_id}", None),
    ]


def _session_with_a_turn(client: TestClient, owner: Account) -> dict[str, Any]:
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    add_turn(client, owner.headers, session["id"], "private conversation")
    return session


def test_another_orgs_session_is_not_found_on_every_route_and_stays_untouched(client: TestClient) -> None:
    victim = register(client)
    session = _session_with_a_turn(client, victim)
    before = client.get(f"/api/sessions/{session['id']}", headers=victim.headers).json()
    intruder = register(client)
    intruder_key = bearer(create_key(client, intruder))

    for headers in (intruder.headers, intruder_key):
        for method, path, body in _every_route(session["id"]):
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["code"] == "not_found"

    assert client.get(f"/api/sessions/{session['id']}", headers=victim.headers).json() == before


def test_another_orgs_sessions_never_appear_in_a_list_or_a_search(client: TestClient) -> None:
    victim = register(client)
    session = _session_with_a_turn(client, victim)
    intruder = register(client)
    for params in ({}, {"q": "private"}, {"agentId": session["agentId"]}, {"status": "ACTIVE"}):
        response = client.get("/api/sessions", params=params, headers=intruder.headers)
        assert response.status_code == 200
        assert response.json() == [], params


def test_a_session_for_another_orgs_agent_is_refused_as_not_found(client: TestClient) -> None:
    other = register(client)
    foreign_agent = create_agent(client, other.headers)
    caller = register(client)
    for agent_id in (foreign_agent["id"], "00000000-0000-4000-8000-000000000000", "agent-name"):
        response = client.post("/api/sessions", json={"agentId": agent_id}, headers=caller.headers)
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "Agent not found."
    assert client.get("/api/sessions", headers=other.headers).json() == []


def test_a_viewer_reads_sessions_but_every_write_is_forbidden(client: TestClient, database: Database) -> None:
    owner = register(client)
    session = _session_with_a_turn(client, owner)
    viewer = add_member(client, database, owner, "VIEWER")
    viewer_key = bearer(create_key(client, viewer))

    for headers in (viewer.headers, viewer_key):
        assert client.get(f"/api/sessions/{session['id']}", headers=headers).status_code == 200
        assert len(client.get("/api/sessions", headers=headers).json()) == 1
        create = client.post("/api/sessions", json={"agentId": session["agentId"]}, headers=headers)
        assert create.status_code == 403
        assert create.json()["code"] == "forbidden"
        for method, path, body in _every_route(session["id"])[1:]:
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path, response.text)

    after = client.get(f"/api/sessions/{session['id']}", headers=owner.headers).json()
    assert after["status"] == "ACTIVE" and len(after["turns"]) == 1
    assert len(client.get("/api/sessions", headers=owner.headers).json()) == 1


def test_a_member_ingests_sessions_and_deletes_those_it_created_itself_or_through_its_key(
    client: TestClient, database: Database
) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    member = add_member(client, database, owner, "MEMBER")
    member_key = bearer(create_key(client, member))

    own_by_jwt = start_session(client, member.headers, agent["id"])
    own_by_key = start_session(client, member_key, agent["id"])
    add_turn(client, member_key, own_by_key["id"], "from the member's key")
    assert client.post(f"/api/sessions/{own_by_key['id']}/end", json={}, headers=member_key).status_code == 200

    assert client.delete(f"/api/sessions/{own_by_key['id']}", headers=member.headers).status_code == 200
    assert client.delete(f"/api/sessions/{own_by_jwt['id']}", headers=member_key).status_code == 200


@pytest.mark.parametrize("creator_role", ["OWNER", "MEMBER"])
def test_a_member_cannot_delete_a_session_someone_else_created(
    client: TestClient, database: Database, creator_role: str
) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    creator = owner if creator_role == "OWNER" else add_member(client, database, owner, "MEMBER", name="Creator")
    session = start_session(client, bearer(create_key(client, creator)), agent["id"])
    member = add_member(client, database, owner, "MEMBER")

    for headers in (member.headers, bearer(create_key(client, member))):
        response = client.delete(f"/api/sessions/{session['id']}", headers=headers)
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    assert client.get(f"/api/sessions/{session['id']}", headers=owner.headers).status_code == 200


@pytest.mark.parametrize("role", ["OWNER", "ADMIN"])
def test_owners_and_admins_delete_any_session_of_the_org(client: TestClient, database: Database, role: str) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    member = add_member(client, database, owner, "MEMBER")
    session = start_session(client, member.headers, agent["id"])
    deleter = owner if role == "OWNER" else add_member(client, database, owner, "ADMIN")
    assert client.delete(f"/api/sessions/{session['id']}", headers=deleter.headers).status_code == 200
    assert client.get(f"/api/sessions/{session['id']}", headers=owner.headers).status_code == 404
