"""The Roles table for agents, keys and the audit log: each role, through a JWT and through its own key.

Every refusal is checked together with the state it leaves (nothing created, nothing changed) and
every boundary with its pair: the role just above it succeeds at the same request.
"""

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from provenant.auth.roles import Access, Role, can_reach_every_session
from provenant.db import Database
from tests.factories import (
    Account,
    add_member,
    bearer,
    create_agent,
    create_key,
    key_headers,
    register,
    set_role,
    unique,
)

ROLES = ("OWNER", "ADMIN", "MEMBER", "VIEWER")
AUTH_METHODS = ("jwt", "api_key")


def by_role(**expected: object) -> pytest.MarkDecorator:
    """One case per role with its expected outcome: ``by_role(OWNER=201, ..., VIEWER=403)``."""
    assert set(expected) == set(ROLES)
    return pytest.mark.parametrize(("role", "expected"), list(expected.items()))


every_auth_method = pytest.mark.parametrize("auth", AUTH_METHODS)


@dataclass
class Caller:
    account: Account
    headers: dict[str, str]


@dataclass
class Org:
    owner: Account
    creator: Account  # a MEMBER whose agent nobody else created
    agent: dict[str, object]


@pytest.fixture
def org(client: TestClient, database: Database) -> Org:
    owner = register(client)
    creator = add_member(client, database, owner, "MEMBER", name="Creator")
    return Org(owner=owner, creator=creator, agent=create_agent(client, creator.headers))


def caller(client: TestClient, database: Database, org: Org, role: str, auth: str) -> Caller:
    """The person under test: the org's OWNER, or a new member with ``role``; their JWT or their own key."""
    account = org.owner if role == "OWNER" else add_member(client, database, org.owner, role, name=role.title())
    headers = account.headers if auth == "jwt" else key_headers(client, account)
    return Caller(account, headers)


def agent_body() -> dict[str, str]:
    name = unique("agent")
    return {"name": name, "slug": name}


# --- agents -------------------------------------------------------------------------------------


@every_auth_method
@by_role(OWNER=200, ADMIN=200, MEMBER=200, VIEWER=200)
def test_every_role_reads_agents(
    client: TestClient, database: Database, org: Org, role: str, auth: str, expected: int
) -> None:
    me = caller(client, database, org, role, auth)
    listed = client.get("/api/agents", headers=me.headers)
    assert listed.status_code == expected
    assert [agent["id"] for agent in listed.json()] == [org.agent["id"]]
    fetched = client.get(f"/api/agents/{org.agent['id']}", headers=me.headers)
    assert fetched.status_code == expected
    assert fetched.json() == org.agent


@every_auth_method
@by_role(OWNER=201, ADMIN=201, MEMBER=201, VIEWER=403)
def test_creating_an_agent_by_role(
    client: TestClient, database: Database, org: Org, role: str, auth: str, expected: int
) -> None:
    me = caller(client, database, org, role, auth)
    body = agent_body()
    response = client.post("/api/agents", json=body, headers=me.headers)
    assert response.status_code == expected, response.text
    slugs = {agent["slug"] for agent in client.get("/api/agents", headers=org.owner.headers).json()}
    if expected == 201:
        assert response.json()["createdById"] == me.account.user_id
        assert body["slug"] in slugs
    else:
        assert response.json()["code"] == "forbidden"
        assert body["slug"] not in slugs


@every_auth_method
@by_role(OWNER=200, ADMIN=200, MEMBER=200, VIEWER=403)
def test_editing_someone_elses_agent_by_role(
    client: TestClient, database: Database, org: Org, role: str, auth: str, expected: int
) -> None:
    """Editing is not limited to one's own items: only archiving is."""
    me = caller(client, database, org, role, auth)
    response = client.patch(f"/api/agents/{org.agent['id']}", json={"description": "edited"}, headers=me.headers)
    assert response.status_code == expected, response.text
    stored = client.get(f"/api/agents/{org.agent['id']}", headers=org.owner.headers).json()
    assert stored["description"] == ("edited" if expected == 200 else None)


@every_auth_method
@by_role(OWNER=201, ADMIN=201, MEMBER=201, VIEWER=403)
def test_get_or_create_of_a_new_agent_by_role(
    client: TestClient, database: Database, org: Org, role: str, auth: str, expected: int
) -> None:
    me = caller(client, database, org, role, auth)
    response = client.post("/api/agents/get-or-create", json={"name": "Fresh Agent"}, headers=me.headers)
    assert response.status_code == expected, response.text
    slugs = {agent["slug"] for agent in client.get("/api/agents", headers=org.owner.headers).json()}
    assert ("fresh-agent" in slugs) is (expected == 201)


@every_auth_method
@by_role(OWNER=200, ADMIN=200, MEMBER=200, VIEWER=403)
def test_get_or_create_of_an_existing_agent_by_role(
    client: TestClient, database: Database, org: Org, role: str, auth: str, expected: int
) -> None:
    """get-or-create is a write even when it finds the agent: a VIEWER is refused either way."""
    me = caller(client, database, org, role, auth)
    response = client.post("/api/agents/get-or-create", json={"name": org.agent["name"]}, headers=me.headers)
    assert response.status_code == expected, response.text
    if expected == 200:
        assert response.json()["id"] == org.agent["id"]


@every_auth_method
@by_role(OWNER=200, ADMIN=200, MEMBER=403, VIEWER=403)
def test_archiving_an_agent_someone_else_created_by_role(
    client: TestClient, database: Database, org: Org, role: str, auth: str, expected: int
) -> None:
    me = caller(client, database, org, role, auth)
    response = client.delete(f"/api/agents/{org.agent['id']}", headers=me.headers)
    assert response.status_code == expected, response.text
    stored = client.get(f"/api/agents/{org.agent['id']}", headers=org.owner.headers).json()
    assert stored["status"] == ("ARCHIVED" if expected == 200 else "ACTIVE")


@every_auth_method
@by_role(OWNER=200, ADMIN=200, MEMBER=200, VIEWER=403)
def test_archiving_an_agent_one_created_by_role(
    client: TestClient, database: Database, org: Org, role: str, auth: str, expected: int
) -> None:
    """The VIEWER created theirs while a MEMBER: having created it gives no right to archive it."""
    me = caller(client, database, org, "MEMBER" if role == "VIEWER" else role, auth)
    own = create_agent(client, me.headers)
    if role == "VIEWER":
        set_role(database, me.account.user_id, "VIEWER")
    response = client.delete(f"/api/agents/{own['id']}", headers=me.headers)
    assert response.status_code == expected, response.text
    stored = client.get(f"/api/agents/{own['id']}", headers=org.owner.headers).json()
    assert stored["status"] == ("ARCHIVED" if expected == 200 else "ACTIVE")


# --- the audit log ------------------------------------------------------------------------------


@every_auth_method
@by_role(OWNER=200, ADMIN=200, MEMBER=403, VIEWER=403)
def test_reading_the_audit_log_by_role(
    client: TestClient, database: Database, org: Org, role: str, auth: str, expected: int
) -> None:
    me = caller(client, database, org, role, auth)
    listed = client.get("/api/audit", headers=me.headers)
    exported = client.get("/api/audit/export", headers=me.headers)
    assert (listed.status_code, exported.status_code) == (expected, expected)
    if expected == 200:
        assert any(entry["action"] == "agent.create" for entry in listed.json())
        assert '"agent.create"' in exported.text
    else:
        assert listed.json()["code"] == exported.json()["code"] == "forbidden"
        assert "agent.create" not in listed.text + exported.text


# --- API keys -----------------------------------------------------------------------------------


@every_auth_method
@by_role(OWNER=201, ADMIN=201, MEMBER=201, VIEWER=201)
def test_every_role_creates_keys_that_act_with_its_role(
    client: TestClient, database: Database, org: Org, role: str, auth: str, expected: int
) -> None:
    me = caller(client, database, org, role, auth)
    response = client.post("/api/org/keys", json={"name": "new"}, headers=me.headers)
    assert response.status_code == expected, response.text
    me_through_key = client.get("/api/auth/me", headers=bearer(response.json()["key"])).json()
    assert (me_through_key["id"], me_through_key["role"]) == (me.account.user_id, role)


@every_auth_method
@by_role(OWNER=True, ADMIN=True, MEMBER=False, VIEWER=False)
def test_who_sees_someone_elses_keys_by_role(
    client: TestClient, database: Database, org: Org, role: str, auth: str, expected: bool
) -> None:
    create_key(client, org.creator, name="creators")
    me = caller(client, database, org, role, auth)
    create_key(client, me.account, name="mine")
    names = {key["name"] for key in client.get("/api/org/keys", headers=me.headers).json()}
    assert "mine" in names
    assert ("creators" in names) is expected


@every_auth_method
@by_role(OWNER=200, ADMIN=200, MEMBER=404, VIEWER=404)
def test_revoking_someone_elses_key_by_role(
    client: TestClient, database: Database, org: Org, role: str, auth: str, expected: int
) -> None:
    """A key the caller may not see is "not found", and it keeps working."""
    others = create_key(client, org.creator, name="creators")
    (others_id,) = [k["id"] for k in client.get("/api/org/keys", headers=org.creator.headers).json()]
    me = caller(client, database, org, role, auth)
    response = client.delete(f"/api/org/keys/{others_id}", headers=me.headers)
    assert response.status_code == expected, response.text
    still_works = client.get("/api/agents", headers=bearer(others)).status_code == 200
    assert still_works is (expected == 404)


@every_auth_method
@by_role(OWNER=200, ADMIN=200, MEMBER=200, VIEWER=200)
def test_every_role_revokes_its_own_key(
    client: TestClient, database: Database, org: Org, role: str, auth: str, expected: int
) -> None:
    me = caller(client, database, org, role, auth)
    own = create_key(client, me.account, name="to revoke")
    (own_id,) = [k["id"] for k in client.get("/api/org/keys", headers=me.headers).json() if k["name"] == "to revoke"]
    assert client.delete(f"/api/org/keys/{own_id}", headers=me.headers).status_code == expected
    assert client.get("/api/agents", headers=bearer(own)).json()["code"] == "api_key_revoked"


# --- role changes reach keys at once ------------------------------------------------------------


def test_a_demotion_reaches_the_creators_key_on_the_next_request(client: TestClient, database: Database) -> None:
    owner = register(client)
    member = add_member(client, database, owner, "MEMBER")
    headers = key_headers(client, member)
    assert client.post("/api/agents", json=agent_body(), headers=headers).status_code == 201

    set_role(database, member.user_id, "VIEWER")
    refused = client.post("/api/agents", json=agent_body(), headers=headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert client.get("/api/agents", headers=headers).status_code == 200  # still reads

    set_role(database, member.user_id, "MEMBER")
    assert client.post("/api/agents", json=agent_body(), headers=headers).status_code == 201


def test_a_promotion_reaches_the_creators_key_on_the_next_request(client: TestClient, database: Database) -> None:
    owner = register(client)
    viewer = add_member(client, database, owner, "VIEWER")
    headers = key_headers(client, viewer)
    assert client.get("/api/audit", headers=headers).status_code == 403

    set_role(database, viewer.user_id, "ADMIN")
    assert client.get("/api/audit", headers=headers).status_code == 200
    assert client.delete(f"/api/agents/{create_agent(client, owner.headers)['id']}", headers=headers).json() == {
        "success": True
    }


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("access", "every"), [(Access.FULL, True), (Access.READ, True), (Access.INGEST, False)])
def test_only_an_ingest_key_is_held_to_the_sessions_its_credential_created(
    role: Role, access: Access, every: bool
) -> None:
    # "Key access and rolling": an ingest key reads and writes the sessions it created; every other
    # credential, whatever its role, every session of the org (sessions.access asks this rule).
    assert can_reach_every_session(role, access) is every
