"""Members: listing, role changes by who may make them, removal, and access that follows at once."""

import uuid

import pytest
from fastapi.testclient import TestClient

from tests.factories import (
    Account,
    assert_unauthorized,
    bearer,
    create_agent,
    create_key,
    invite_and_accept,
    register,
)


def _roles(client: TestClient, account: Account) -> dict[str, str]:
    response = client.get("/api/org/members", headers=account.headers)
    assert response.status_code == 200, response.text
    return {member["id"]: member["role"] for member in response.json()}


def _change_role(client: TestClient, caller: Account, target_id: str, role: str) -> object:
    return client.patch(f"/api/org/members/{target_id}/role", json={"role": role}, headers=caller.headers)


def _audit(client: TestClient, account: Account, action: str) -> list[dict[str, object]]:
    response = client.get("/api/audit", params={"action": action}, headers=account.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def test_every_member_lists_the_team_with_their_roles(client: TestClient) -> None:
    owner = register(client, name="Olive")
    viewer = invite_and_accept(client, owner, "VIEWER", name="Vic")
    response = client.get("/api/org/members", headers=viewer.headers)
    assert response.status_code == 200
    members = response.json()
    assert [(m["id"], m["name"], m["email"], m["role"]) for m in members] == [
        (owner.user_id, "Olive", owner.email, "OWNER"),
        (viewer.user_id, "Vic", viewer.email, "VIEWER"),
    ]
    assert all(m["createdAt"].endswith("Z") for m in members)


def test_a_member_of_another_org_is_not_listed(client: TestClient) -> None:
    owner = register(client)
    stranger = register(client)
    assert stranger.user_id not in _roles(client, owner)


def _role_changes_by(client: TestClient, reader: Account, caller: Account) -> list[dict[str, object]]:
    entries = _audit(client, reader, "team.member.role_changed")
    return [e for e in entries if e["user"]["id"] == caller.user_id]  # type: ignore[index]


# --- role changes -------------------------------------------------------------------------------

# (caller, target's role, new role) → status. OWNER: any role; ADMIN: MEMBER ↔ VIEWER of non-admins.
ROLE_CHANGES = [
    ("OWNER", "MEMBER", "OWNER", 200),
    ("OWNER", "MEMBER", "ADMIN", 200),
    ("OWNER", "ADMIN", "VIEWER", 200),
    ("OWNER", "OWNER", "MEMBER", 200),
    ("ADMIN", "MEMBER", "VIEWER", 200),
    ("ADMIN", "VIEWER", "MEMBER", 200),
    ("ADMIN", "MEMBER", "ADMIN", 403),
    ("ADMIN", "VIEWER", "OWNER", 403),
    ("ADMIN", "ADMIN", "MEMBER", 403),
    ("ADMIN", "OWNER", "VIEWER", 403),
    ("MEMBER", "VIEWER", "MEMBER", 403),
    ("VIEWER", "MEMBER", "VIEWER", 403),
]


def test_role_changes_follow_the_roles_table(client: TestClient) -> None:
    boss = register(client)
    callers = {"OWNER": boss}
    callers.update({role: invite_and_accept(client, boss, role) for role in ("ADMIN", "MEMBER", "VIEWER")})
    target = invite_and_accept(client, boss, "MEMBER")

    outcome = {}
    for caller_role, target_role, new_role, _ in ROLE_CHANGES:
        assert _change_role(client, boss, target.user_id, target_role).status_code == 200
        response = _change_role(client, callers[caller_role], target.user_id, new_role)
        now_role = _roles(client, boss)[target.user_id]
        outcome[caller_role, target_role, new_role] = (response.status_code, now_role)

    assert outcome == {
        (caller, current, new): (status, new if status == 200 else current)
        for caller, current, new, status in ROLE_CHANGES
    }


def test_a_role_change_answers_the_member_and_is_audited_with_both_roles(client: TestClient) -> None:
    owner = register(client)
    admin = invite_and_accept(client, owner, "ADMIN")
    member = invite_and_accept(client, owner, "MEMBER", name="Mia")

    response = _change_role(client, admin, member.user_id, "VIEWER")

    assert response.status_code == 200
    member_read = response.json()
    assert {k: member_read[k] for k in ("id", "name", "email", "role")} == {
        "id": member.user_id,
        "name": "Mia",
        "email": member.email,
        "role": "VIEWER",
    }
    [entry] = _role_changes_by(client, owner, admin)
    assert (entry["resourceType"], entry["resourceId"]) == ("user", member.user_id)
    assert (entry["before"], entry["after"]) == ({"role": "MEMBER"}, {"role": "VIEWER"})


def test_a_forbidden_role_change_says_why_and_changes_nothing(client: TestClient) -> None:
    owner = register(client)
    admin = invite_and_accept(client, owner, "ADMIN")
    response = _change_role(client, admin, owner.user_id, "VIEWER")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "MEMBER" in response.json()["error"]
    assert _roles(client, owner)[owner.user_id] == "OWNER"
    assert _role_changes_by(client, owner, admin) == []


def test_the_last_owner_cannot_step_down(client: TestClient) -> None:
    owner = register(client)
    response = _change_role(client, owner, owner.user_id, "ADMIN")
    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"
    assert "at least one OWNER" in response.json()["error"]
    assert _roles(client, owner)[owner.user_id] == "OWNER"


def test_an_owner_may_step_down_when_another_owner_remains(client: TestClient) -> None:
    owner = register(client)
    second = invite_and_accept(client, owner, "OWNER")
    assert _change_role(client, owner, owner.user_id, "MEMBER").status_code == 200
    assert _roles(client, second) == {owner.user_id: "MEMBER", second.user_id: "OWNER"}


def test_a_demoted_members_jwt_and_key_act_with_the_new_role_on_the_next_request(client: TestClient) -> None:
    owner = register(client)
    member = invite_and_accept(client, owner, "MEMBER")
    key = bearer(create_key(client, member))
    assert create_agent(client, key)

    assert _change_role(client, owner, member.user_id, "VIEWER").status_code == 200
    for headers in (member.headers, key):
        response = client.post("/api/agents", json={"name": "x", "slug": "x"}, headers=headers)
        assert response.status_code == 403
        assert client.get("/api/auth/me", headers=headers).json()["role"] == "VIEWER"

    assert _change_role(client, owner, member.user_id, "MEMBER").status_code == 200
    assert client.post("/api/agents", json={"name": "y", "slug": "y"}, headers=key).status_code == 201


@pytest.mark.parametrize("role", ["owner", "SUPERUSER", "", None, 3])
def test_a_role_outside_the_enum_is_refused(client: TestClient, role: object) -> None:
    owner = register(client)
    member = invite_and_accept(client, owner, "MEMBER")
    response = client.patch(f"/api/org/members/{member.user_id}/role", json={"role": role}, headers=owner.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["details"][0]["field"] == "role"
    assert _roles(client, owner)[member.user_id] == "MEMBER"


def test_unknown_and_other_orgs_members_are_not_found(client: TestClient) -> None:
    owner = register(client)
    stranger = register(client)
    for user_id in (str(uuid.uuid4()), stranger.user_id, "not-a-uuid"):
        assert _change_role(client, owner, user_id, "VIEWER").status_code == 404
        response = client.delete(f"/api/org/members/{user_id}", headers=owner.headers)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert client.get("/api/auth/me", headers=stranger.headers).json()["role"] == "OWNER"


# --- removal ------------------------------------------------------------------------------------

# (caller, target's role) → status. OWNER removes anyone; ADMIN neither an OWNER nor an ADMIN.
REMOVALS = [
    ("OWNER", "OWNER", 200),
    ("OWNER", "ADMIN", 200),
    ("OWNER", "VIEWER", 200),
    ("ADMIN", "MEMBER", 200),
    ("ADMIN", "VIEWER", 200),
    ("ADMIN", "ADMIN", 403),
    ("ADMIN", "OWNER", 403),
    ("MEMBER", "VIEWER", 403),
]


@pytest.mark.parametrize(("caller_role", "target_role", "status"), REMOVALS)
def test_removals_follow_the_roles_table(client: TestClient, caller_role: str, target_role: str, status: int) -> None:
    boss = register(client)
    caller = boss if caller_role == "OWNER" else invite_and_accept(client, boss, caller_role)
    target = invite_and_accept(client, boss, target_role)

    response = client.delete(f"/api/org/members/{target.user_id}", headers=caller.headers)

    assert response.status_code == status, response.text
    assert (target.user_id in _roles(client, boss)) is (status != 200)
    removed = [e for e in _audit(client, boss, "team.member.removed") if e["resourceId"] == target.user_id]
    assert len(removed) == (1 if status == 200 else 0)


@pytest.mark.parametrize("role", ["OWNER", "ADMIN"])
def test_nobody_removes_themselves(client: TestClient, role: str) -> None:
    boss = register(client)
    caller = invite_and_accept(client, boss, role)
    response = client.delete(f"/api/org/members/{caller.user_id}", headers=caller.headers)
    assert response.status_code == 409
    assert response.json()["code"] == "cannot_remove_self"
    assert _roles(client, boss)[caller.user_id] == role


def test_a_removed_members_jwt_and_keys_stop_at_once_while_the_keys_stay_listed_to_revoke(
    client: TestClient,
) -> None:
    owner = register(client)
    admin = invite_and_accept(client, owner, "ADMIN")
    member = invite_and_accept(client, owner, "MEMBER", name="Leaver")
    key = create_key(client, member, name="leaver-ci")
    agent = create_agent(client, bearer(key))

    response = client.delete(f"/api/org/members/{member.user_id}", headers=admin.headers)
    assert response.status_code == 200
    assert response.json() == {"success": True}

    assert_unauthorized(client.get("/api/auth/me", headers=member.headers), "invalid_token")
    assert_unauthorized(client.get("/api/agents", headers=bearer(key)), "api_key_owner_removed")
    login = client.post("/api/auth/login", json={"email": member.email, "password": member.password})
    assert login.status_code == 401

    # The key is not revoked: OWNER and ADMIN still see it, with who made it, and can revoke it.
    for manager in (owner, admin):
        listed = client.get("/api/org/keys", headers=manager.headers).json()
        assert [(k["name"], k["isActive"], k["user"]) for k in listed] == [
            ("leaver-ci", True, {"id": member.user_id, "name": "Leaver", "email": member.email})
        ]
    assert client.delete(f"/api/org/keys/{listed[0]['id']}", headers=owner.headers).status_code == 200
    assert_unauthorized(client.get("/api/agents", headers=bearer(key)), "api_key_revoked")

    # What they made belongs to the org and stays.
    kept = client.get(f"/api/agents/{agent['id']}", headers=owner.headers)
    assert kept.json()["createdById"] == member.user_id

    [entry] = _audit(client, owner, "team.member.removed")
    assert entry["resourceId"] == member.user_id
    assert entry["user"]["id"] == admin.user_id
    assert entry["before"] == {"name": "Leaver", "email": member.email, "role": "MEMBER"}
