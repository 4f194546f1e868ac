"""The Roles table of the contract, whole: every role by every kind of action, through a JWT and a key.

Each case builds one org as users do (register, invitations, role changes), then lets a person
with the role under test try every action once, in an order where no action spoils a later one.
"""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Account, bearer, create_agent, create_key, invite_and_accept, register, unique

ROLES = ("OWNER", "ADMIN", "MEMBER", "VIEWER")

# The contract's table, as the status each role gets.   OWNER  ADMIN  MEMBER VIEWER
ROLES_TABLE: dict[str, tuple[int, int, int, int]] = {
    "read":                                              (200,   200,   200,   200),
    "create":                                            (201,   201,   201,   403),
    "edit":                                              (200,   200,   200,   403),
    "delete own":                                        (200,   200,   200,   403),
    "delete others'":                                    (200,   200,   403,   403),
    "invite":                                            (201,   201,   403,   403),
    "change role":                                       (200,   200,   403,   403),
    "remove":                                            (200,   200,   403,   403),
    "read audit":                                        (200,   200,   403,   403),
}  # fmt: skip


def _org_with_actor(client: TestClient, role: str) -> dict[str, Any]:
    """An OWNER, another member with an agent, and the actor: joined as MEMBER, made an agent of their
    own, then given ``role`` by the OWNER (so a VIEWER, too, has an agent they created)."""
    boss = register(client)
    other = invite_and_accept(client, boss, "MEMBER", name="Other")
    actor = invite_and_accept(client, boss, "MEMBER", name="Actor")
    world = {
        "actor": actor,
        "other": other,
        "others_agent": create_agent(client, other.headers),
        "own_agent": create_agent(client, actor.headers),
    }
    if role != "MEMBER":
        response = client.patch(f"/api/org/members/{actor.user_id}/role", json={"role": role}, headers=boss.headers)
        assert response.status_code == 200, response.text
    return world


def _actions(client: TestClient, world: dict[str, Any]) -> dict[str, Callable[[dict[str, str]], Any]]:
    other: Account = world["other"]
    own, others = world["own_agent"]["id"], world["others_agent"]["id"]
    return {
        "read": lambda h: client.get("/api/agents", headers=h),
        "create": lambda h: client.post("/api/agents", json={"name": "n", "slug": unique("s")}, headers=h),
        "edit": lambda h: client.patch(f"/api/agents/{others}", json={"description": "edited"}, headers=h),
        "delete own": lambda h: client.delete(f"/api/agents/{own}", headers=h),
        "delete others'": lambda h: client.delete(f"/api/agents/{others}", headers=h),
        "invite": lambda h: client.post(
            "/api/org/invitations", json={"email": f"{unique('new')}@example.com"}, headers=h
        ),
        "change role": lambda h: client.patch(
            f"/api/org/members/{other.user_id}/role", json={"role": "VIEWER"}, headers=h
        ),
        "remove": lambda h: client.delete(f"/api/org/members/{other.user_id}", headers=h),
        "read audit": lambda h: client.get("/api/audit", headers=h),
    }


@pytest.mark.parametrize("via", ["jwt", "api_key"])
@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_what_the_roles_table_says(client: TestClient, role: str, via: str) -> None:
    world = _org_with_actor(client, role)
    actor: Account = world["actor"]
    headers = actor.headers if via == "jwt" else bearer(create_key(client, actor))

    outcome = {action: call(headers).status_code for action, call in _actions(client, world).items()}

    column = ROLES.index(role)
    assert outcome == {action: statuses[column] for action, statuses in ROLES_TABLE.items()}
