"""`GET /api/auth/me`'s `permissions`: what the caller may do now, for every role and every credential.

The expectations come from the contract, as the route-by-route test writes them (tests/auth/test_access_table.py's
RULES), not from provenant.auth.roles: me must say exactly what the routes then allow."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from provenant.auth.roles import Action
from provenant.db import Database
from tests.auth.test_access_table import ADMINS, RULES
from tests.factories import Account, add_member, bearer, register, turn_on_two_factor

ROLES = ("OWNER", "ADMIN", "MEMBER", "VIEWER")
CREDENTIALS = ("jwt", "full", "read", "ingest")

# Each action me names, and the contract's rule for the routes that need it.
ACTION_RULES = {
    "read": RULES["read"],
    "read_own_sessions": RULES["read sessions"],
    "ingest": RULES["ingest"],
    "write": RULES["write"],
    "manage_own_keys": RULES["manage own keys"],
    "delete_own": RULES["delete"],
    "delete_any": (ADMINS, frozenset({"jwt", "full"})),  # "delete / archive" without "own items only"
    "manage_org_keys": (ADMINS, frozenset({"jwt", "full"})),  # "OWNER and ADMIN see and revoke every key"
    "invite": RULES["invite"],
    "read_invitations": RULES["list invitations"],
    "change_roles": RULES["change roles"],
    "remove_members": RULES["remove members"],
    "read_audit": RULES["read audit"],
    "manage_org_settings": RULES["change org settings"],
    "read_trust_policies": RULES["read trust policies"],
    "manage_trust_policies": RULES["manage trust policies"],
}

EVERYONE = ["OWNER", "ADMIN", "MEMBER", "VIEWER"]
BELOW_ADMIN = ["MEMBER", "VIEWER"]
NOTHING: dict[str, Any] = {
    "actions": [],
    "grantableRoles": [],
    "roleChanges": {role: [] for role in ROLES},
    "removableRoles": [],
    "passwordResetRoles": [],
}
# The Roles table's "invite" and "change roles" columns, and the reset links that follow "change roles".
ROLE_RULES: dict[str, dict[str, Any]] = {
    "OWNER": {
        "grantableRoles": ["ADMIN", "MEMBER", "VIEWER"],
        "roleChanges": {role: [other for other in ROLES if other != role] for role in ROLES},
        "removableRoles": EVERYONE,
        "passwordResetRoles": EVERYONE,
    },
    "ADMIN": {
        "grantableRoles": BELOW_ADMIN,
        "roleChanges": {"OWNER": [], "ADMIN": [], "MEMBER": ["VIEWER"], "VIEWER": ["MEMBER"]},
        "removableRoles": BELOW_ADMIN,
        "passwordResetRoles": BELOW_ADMIN,
    },
}


def expected(role: str, credential: str) -> dict[str, Any]:
    actions = [action for action, (roles, by) in ACTION_RULES.items() if role in roles and credential in by]
    if credential not in ("jwt", "full") or role not in ROLE_RULES:
        return NOTHING | {"actions": actions}
    rules = ROLE_RULES[role]
    # A reset link acts as its member: never issued through a key, whatever its access.
    return rules | {
        "actions": actions,
        "passwordResetRoles": rules["passwordResetRoles"] if credential == "jwt" else [],
    }


def me(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/auth/me", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def credential_headers(client: TestClient, account: Account, credential: str) -> dict[str, str]:
    if credential == "jwt":
        return account.headers
    response = client.post("/api/org/keys", json={"name": credential, "access": credential}, headers=account.headers)
    assert response.status_code == 201, response.text
    return bearer(response.json()["key"])


@pytest.fixture
def accounts(client: TestClient, database: Database) -> dict[str, Account]:
    owner = register(client)
    return {"OWNER": owner} | {role: add_member(client, database, owner, role) for role in ROLES[1:]}


def test_every_role_with_every_credential_is_told_what_the_routes_allow(
    client: TestClient, accounts: dict[str, Account]
) -> None:
    for role in ROLES:
        for credential in CREDENTIALS:
            told = me(client, credential_headers(client, accounts[role], credential))["permissions"]
            assert told == expected(role, credential), (role, credential)


def test_the_actions_are_the_ones_auth_roles_names() -> None:
    assert set(ACTION_RULES) == {action.value for action in Action}


def test_the_org_settings_are_an_owners_in_person_only(client: TestClient, accounts: dict[str, Account]) -> None:
    owner = accounts["OWNER"]
    settings = {"requireTwoFactor": False}
    for headers, allowed in ((owner.headers, True), (credential_headers(client, owner, "full"), False)):
        told = "manage_org_settings" in me(client, headers)["permissions"]["actions"]
        answered = client.patch("/api/org/settings", json=settings, headers=headers).status_code
        assert (told, answered) == (allowed, 200 if allowed else 403)


def test_a_reset_link_is_offered_only_where_the_route_issues_one(
    client: TestClient, accounts: dict[str, Account]
) -> None:
    admin, viewer = accounts["ADMIN"], accounts["VIEWER"]
    for headers, status in ((credential_headers(client, admin, "full"), 403), (admin.headers, 201)):
        told = me(client, headers)["permissions"]["passwordResetRoles"]
        answered = client.post(f"/api/org/members/{viewer.user_id}/password-reset", headers=headers).status_code
        assert ("VIEWER" in told, answered) == (status == 201, status)


def test_a_person_held_to_two_factor_sign_in_may_do_nothing_yet(
    client: TestClient, accounts: dict[str, Account]
) -> None:
    owner, member = accounts["OWNER"], accounts["MEMBER"]
    turn_on_two_factor(client, owner)
    response = client.patch("/api/org/settings", json={"requireTwoFactor": True}, headers=owner.headers)
    assert response.status_code == 200, response.text

    assert me(client, member.headers)["permissions"] == NOTHING
    assert client.get("/api/agents", headers=member.headers).status_code == 403
    assert me(client, owner.headers)["permissions"] == expected("OWNER", "jwt")
