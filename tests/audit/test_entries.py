"""What each mutation writes to the audit log, and that a failed one writes nothing."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import (
    Account,
    add_member,
    audit_entries,
    create_agent,
    create_key,
    key_headers,
    login,
    register,
)

USER_AGENT = "provenant-tests/1.0 (audit)"
ENTRY_FIELDS = {
    "id",
    "action",
    "resourceType",
    "resourceId",
    "user",
    "apiKeyId",
    "before",
    "after",
    "ipAddress",
    "userAgent",
    "createdAt",
}


@pytest.fixture
def owner(client: TestClient) -> Account:
    client.headers["User-Agent"] = USER_AGENT
    return register(client, name="Olive Owner")


def key_id_named(client: TestClient, owner: Account, name: str) -> str:
    keys = client.get("/api/org/keys", params={"includeRevoked": "true"}, headers=owner.headers).json()
    (key_id,) = [key["id"] for key in keys if key["name"] == name]
    return str(key_id)


def test_every_mutation_writes_its_entry_newest_first(client: TestClient, owner: Account) -> None:
    signed_in = login(client, owner.email)
    client.post("/api/auth/login", json={"email": owner.email, "password": "not my password"})
    key = key_headers(client, owner, name="sdk")
    key_id = key_id_named(client, owner, "sdk")
    agent = create_agent(client, key)
    client.patch(f"/api/agents/{agent['id']}", json={"description": "v2"}, headers=key)
    client.delete(f"/api/agents/{agent['id']}", headers=key)
    client.delete(f"/api/org/keys/{key_id}", headers=owner.headers)
    client.post("/api/auth/logout", headers=signed_in.headers)  # ends that token, not owner's

    entries = audit_entries(client, owner.headers)

    assert [(e["action"], e["resourceType"], e["resourceId"]) for e in entries] == [
        ("auth.logout", "user", owner.user_id),
        ("apikey.revoke", "api_key", key_id),
        ("agent.archive", "agent", agent["id"]),
        ("agent.update", "agent", agent["id"]),
        ("agent.create", "agent", agent["id"]),
        ("apikey.create", "api_key", key_id),
        ("auth.login_failed", "user", owner.user_id),
        ("auth.login", "user", owner.user_id),
        ("auth.register", "user", owner.user_id),
    ]
    for entry in entries:
        assert set(entry) == ENTRY_FIELDS
        assert entry["user"] == {"id": owner.user_id, "name": "Olive Owner", "email": owner.email}
        assert (entry["ipAddress"], entry["userAgent"]) == ("testclient", USER_AGENT)
        assert entry["apiKeyId"] == (key_id if entry["action"].startswith("agent.") else None)
    created_at = [entry["createdAt"] for entry in entries]
    assert created_at == sorted(created_at, reverse=True)


def test_an_agents_entries_carry_its_state_before_and_after(client: TestClient, owner: Account) -> None:
    agent = client.post(
        "/api/agents", json={"name": "Support", "slug": "support", "tags": ["eu"]}, headers=owner.headers
    ).json()
    client.patch(f"/api/agents/{agent['id']}", json={"name": "Helpdesk"}, headers=owner.headers)
    client.delete(f"/api/agents/{agent['id']}", headers=owner.headers)

    archive, update, create = audit_entries(client, owner.headers, resourceId=agent["id"])

    assert create["before"] is None
    assert create["after"]["name"] == "Support"
    assert create["after"]["slug"] == "support"
    assert create["after"]["tags"] == ["eu"]
    assert (update["before"]["name"], update["after"]["name"]) == ("Support", "Helpdesk")
    assert update["before"]["slug"] == update["after"]["slug"] == "support"
    assert (archive["before"]["status"], archive["after"]["status"]) == ("ACTIVE", "ARCHIVED")


def test_a_keys_entries_show_its_prefix_and_revocation(client: TestClient, owner: Account) -> None:
    key = create_key(client, owner, name="deploy")
    key_id = key_id_named(client, owner, "deploy")
    client.delete(f"/api/org/keys/{key_id}", headers=owner.headers)

    revoke, create = audit_entries(client, owner.headers, resourceType="api_key")

    assert create["after"]["name"] == "deploy"
    assert create["after"]["keyPrefix"] == key.removeprefix("pk_live_")[:8]
    assert revoke["before"]["revokedAt"] is None
    assert revoke["after"]["revokedAt"] is not None


def test_a_members_entries_name_the_member_and_their_key(
    client: TestClient, database: Database, owner: Account
) -> None:
    member = add_member(client, database, owner, "MEMBER", name="Mo Member")
    key = key_headers(client, member, name="members key")
    agent = create_agent(client, key)

    (entry,) = audit_entries(client, owner.headers, action="agent.create")

    assert entry["user"] == {"id": member.user_id, "name": "Mo Member", "email": member.email}
    assert entry["apiKeyId"] == key_id_named(client, owner, "members key")
    assert entry["resourceId"] == agent["id"]


def test_a_failed_login_for_a_known_email_is_recorded_for_its_org(client: TestClient, owner: Account) -> None:
    client.post("/api/auth/login", json={"email": owner.email.upper(), "password": "wrong password"})
    (entry,) = audit_entries(client, owner.headers, action="auth.login_failed")
    assert entry["resourceId"] == owner.user_id
    assert entry["user"]["id"] == owner.user_id


def test_a_failed_login_for_an_unknown_email_is_in_no_orgs_log(client: TestClient, owner: Account) -> None:
    response = client.post("/api/auth/login", json={"email": "nobody@example.com", "password": "whatever1"})
    assert response.status_code == 401
    assert audit_entries(client, owner.headers, action="auth.login_failed") == []
    assert "nobody@example.com" not in client.get("/api/audit/export", headers=owner.headers).text


def test_reading_writes_no_entry(client: TestClient, owner: Account) -> None:
    agent = create_agent(client, owner.headers)
    before = audit_entries(client, owner.headers)
    client.get("/api/agents", headers=owner.headers)
    client.get(f"/api/agents/{agent['id']}", headers=owner.headers)
    client.get("/api/auth/me", headers=owner.headers)
    client.get("/api/org/keys", headers=owner.headers)
    client.get("/api/audit/export", headers=owner.headers)
    assert audit_entries(client, owner.headers) == before


def test_an_edit_that_changes_nothing_writes_no_entry(client: TestClient, owner: Account) -> None:
    agent = create_agent(client, owner.headers)
    response = client.patch(f"/api/agents/{agent['id']}", json={"name": agent["name"]}, headers=owner.headers)
    assert response.status_code == 200
    assert audit_entries(client, owner.headers, action="agent.update") == []


def test_get_or_create_writes_an_entry_only_when_it_creates(client: TestClient, owner: Account) -> None:
    for _ in range(3):
        client.post("/api/agents/get-or-create", json={"name": "Support Bot"}, headers=owner.headers)
    assert len(audit_entries(client, owner.headers, action="agent.create")) == 1


# --- failed mutations ---------------------------------------------------------------------------


Attempt = Callable[[TestClient, Account, Account, dict[str, Any]], Any]

FAILED_MUTATIONS: dict[str, tuple[Attempt, int]] = {
    "create with a taken slug": (
        lambda c, o, _v, agent: c.post("/api/agents", json={"name": "x", "slug": agent["slug"]}, headers=o.headers),
        409,
    ),
    "edit to a taken slug": (
        lambda c, o, _v, agent: c.patch(
            f"/api/agents/{create_agent(c, o.headers)['id']}", json={"slug": agent["slug"]}, headers=o.headers
        ),
        409,
    ),
    "create with an invalid slug": (
        lambda c, o, _v, _a: c.post("/api/agents", json={"name": "x", "slug": "Not Valid"}, headers=o.headers),
        422,
    ),
    "edit with a null name": (
        lambda c, o, _v, agent: c.patch(f"/api/agents/{agent['id']}", json={"name": None}, headers=o.headers),
        422,
    ),
    "create by a viewer": (
        lambda c, _o, v, _a: c.post("/api/agents", json={"name": "x", "slug": "x"}, headers=v.headers),
        403,
    ),
    "archive by a viewer": (
        lambda c, _o, v, agent: c.delete(f"/api/agents/{agent['id']}", headers=v.headers),
        403,
    ),
    "edit of a missing agent": (
        lambda c, o, _v, _a: c.patch(
            "/api/agents/00000000-0000-4000-8000-000000000000", json={"name": "x"}, headers=o.headers
        ),
        404,
    ),
    "revoke of a missing key": (
        lambda c, o, _v, _a: c.delete("/api/org/keys/00000000-0000-4000-8000-000000000000", headers=o.headers),
        404,
    ),
    "key with a past expiry": (
        lambda c, o, _v, _a: c.post(
            "/api/org/keys", json={"name": "x", "expiresAt": "2001-01-01T00:00:00Z"}, headers=o.headers
        ),
        422,
    ),
}


@pytest.mark.parametrize("case", FAILED_MUTATIONS)
def test_a_failed_mutation_writes_no_entry(client: TestClient, database: Database, owner: Account, case: str) -> None:
    attempt, status = FAILED_MUTATIONS[case]
    viewer = add_member(client, database, owner, "VIEWER")
    agent = create_agent(client, owner.headers)
    before = audit_entries(client, owner.headers, limit=200)

    response = attempt(client, owner, viewer, agent)

    assert response.status_code == status, response.text
    after = audit_entries(client, owner.headers, limit=200)
    new = [entry["action"] for entry in after if entry not in before]
    # "edit to a taken slug" first creates the agent it edits; that create is the only new entry.
    assert new == (["agent.create"] if case == "edit to a taken slug" else [])


def test_timestamps_in_before_and_after_are_written_as_the_api_writes_them(client: TestClient, owner: Account) -> None:
    """An entry's snapshot shows an instant exactly as the API shows it elsewhere (UTC, ms, ``Z``),
    so a reader can compare them as text."""
    invitation = client.post(
        "/api/org/invitations", json={"email": "zulu@example.com", "role": "MEMBER"}, headers=owner.headers
    ).json()
    client.delete(f"/api/org/invitations/{invitation['id']}", headers=owner.headers)

    invited, cancelled = (
        audit_entries(client, owner.headers, action=action)[0]
        for action in ("team.member.invited", "team.invitation.cancelled")
    )
    assert invited["after"]["expiresAt"] == invitation["expiresAt"]
    assert invited["after"]["expiresAt"].endswith("Z")
    assert cancelled["after"]["cancelledAt"].endswith("Z")
    assert "+00:00" not in str(invited) + str(cancelled)


def test_a_sessions_end_is_audited_with_the_time_the_api_shows(client: TestClient, owner: Account) -> None:
    agent = create_agent(client, owner.headers)
    started = client.post("/api/sessions", json={"agentId": agent["id"]}, headers=owner.headers).json()
    ended = client.post(f"/api/sessions/{started['id']}/end", json={}, headers=owner.headers).json()

    (entry,) = audit_entries(client, owner.headers, action="session.end")
    assert entry["after"]["endedAt"] == ended["endedAt"]
