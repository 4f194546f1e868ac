"""Who may call what: every route, with every key access, as every role, against the real app.

The expectations are written out here from the contract (the Roles table and "Key access and
rolling"), not derived from provenant.auth.roles, so a change there that the contract does not make
fails this test. The routes come from the app itself: a new route fails until it has a line in
ROUTES.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import Account, add_member, bearer, login, register

ROLES = ("OWNER", "ADMIN", "MEMBER", "VIEWER")
ALL_ROLES = frozenset(ROLES)
ADMINS = frozenset({"OWNER", "ADMIN"})
WRITERS = frozenset({"OWNER", "ADMIN", "MEMBER"})

# What each rule lets through: the roles (Roles table) and the credentials ("Key access and
# rolling": full acts as the creator, read only reads, ingest only what an instrumented agent needs).
RULES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "anyone signed in": (ALL_ROLES, frozenset({"jwt", "full", "read", "ingest"})),
    "a person": (ALL_ROLES, frozenset({"jwt"})),
    "read": (ALL_ROLES, frozenset({"jwt", "full", "read"})),
    "read sessions": (ALL_ROLES, frozenset({"jwt", "full", "read", "ingest"})),  # ingest: its own only
    "ingest": (WRITERS, frozenset({"jwt", "full", "ingest"})),
    "write": (WRITERS, frozenset({"jwt", "full"})),
    "delete": (WRITERS, frozenset({"jwt", "full"})),  # MEMBER: only what they created
    "manage own keys": (ALL_ROLES, frozenset({"jwt", "full"})),
    "read keys": (ALL_ROLES, frozenset({"jwt", "full", "read"})),
    "invite": (ADMINS, frozenset({"jwt", "full"})),
    "list invitations": (ADMINS, frozenset({"jwt", "full", "read"})),
    "change roles": (ADMINS, frozenset({"jwt", "full"})),
    "remove members": (ADMINS, frozenset({"jwt", "full"})),
    "read audit": (ADMINS, frozenset({"jwt", "full", "read"})),
}

PUBLIC = "public"

ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/api/health"): PUBLIC,
    ("POST", "/api/auth/register"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("GET", "/api/auth/invitations/{token}"): PUBLIC,
    ("POST", "/api/auth/accept-invitation"): PUBLIC,
    ("POST", "/api/keys/report-leaked"): PUBLIC,
    ("GET", "/api/auth/me"): "anyone signed in",
    ("POST", "/api/auth/logout"): "anyone signed in",
    ("POST", "/api/auth/logout-all"): "a person",
    ("POST", "/api/auth/password"): "a person",
    ("GET", "/api/agents"): "read",
    ("GET", "/api/agents/{agent_id}"): "read",
    ("POST", "/api/agents"): "write",
    ("PATCH", "/api/agents/{agent_id}"): "write",
    ("POST", "/api/agents/get-or-create"): "ingest",
    ("DELETE", "/api/agents/{agent_id}"): "delete",
    ("GET", "/api/sessions"): "read sessions",
    ("GET", "/api/sessions/{session_id}"): "read sessions",
    ("POST", "/api/sessions"): "ingest",
    ("POST", "/api/sessions/{session_id}/turns"): "ingest",
    ("POST", "/api/sessions/{session_id}/end"): "ingest",
    ("PATCH", "/api/sessions/{session_id}"): "ingest",  # it only ends a session (older clients)
    ("DELETE", "/api/sessions/{session_id}"): "delete",
    ("GET", "/api/org/keys"): "read keys",
    ("GET", "/api/org/keys/{key_id}/usage"): "read keys",
    ("POST", "/api/org/keys"): "manage own keys",
    ("DELETE", "/api/org/keys/{key_id}"): "manage own keys",
    ("POST", "/api/org/keys/{key_id}/roll"): "manage own keys",
    ("GET", "/api/org/members"): "read",
    ("PATCH", "/api/org/members/{user_id}/role"): "change roles",
    ("DELETE", "/api/org/members/{user_id}"): "remove members",
    ("GET", "/api/org/invitations"): "list invitations",
    ("POST", "/api/org/invitations"): "invite",
    ("DELETE", "/api/org/invitations/{invitation_id}"): "invite",
    ("GET", "/api/audit"): "read audit",
    ("GET", "/api/audit/export"): "read audit",
}

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def api_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path.startswith("/api/"):
            for method in route.methods:
                yield method, route.path


def test_every_route_of_the_app_has_a_decision(app: FastAPI) -> None:
    routes = set(api_routes(app))
    assert routes - ROUTES.keys() == set(), "a new route needs its line in ROUTES"
    assert ROUTES.keys() - routes == set(), "ROUTES names a route the app no longer has"


@dataclass
class Caller:
    role: str
    credential: str  # "jwt" or a key's access
    account: Account
    token: str


@pytest.fixture
def callers(client: TestClient, database: Database) -> list[Caller]:
    owner = register(client)
    accounts = {"OWNER": owner} | {role: add_member(client, database, owner, role) for role in ROLES[1:]}
    found = []
    for role, account in accounts.items():
        found.append(Caller(role, "jwt", account, account.token))
        for access in ("full", "read", "ingest"):
            created = client.post(
                "/api/org/keys", json={"name": f"{role} {access}", "access": access}, headers=account.headers
            )
            assert created.status_code == 201, created.text
            assert created.json()["access"] == access
            found.append(Caller(role, access, account, created.json()["key"]))
    return found


def test_each_route_admits_exactly_the_roles_and_key_access_the_contract_gives(
    client: TestClient, app: FastAPI, callers: list[Caller]
) -> None:
    """A refused call is 403 ``forbidden`` before anything else is looked at; an admitted one gets
    whatever its (empty or made-up) input deserves — 200, 404, 422 — but never that 403."""
    wrong: list[str] = []
    for (method, path), rule in sorted(ROUTES.items()):
        if rule == PUBLIC:
            continue
        roles, credentials = RULES[rule]
        url = path.format(
            agent_id=UNKNOWN_ID, session_id=UNKNOWN_ID, key_id=UNKNOWN_ID, user_id=UNKNOWN_ID, invitation_id=UNKNOWN_ID
        )
        for caller in callers:
            token = caller.token
            if method == "POST" and path in ("/api/auth/logout", "/api/auth/logout-all") and caller.credential == "jwt":
                token = login(client, caller.account.email).token  # signing out ends the token it is sent with
            response = client.request(
                method, url, json={} if method in ("POST", "PATCH") else None, headers=bearer(token)
            )
            refused = response.status_code == 403 and response.json().get("code") == "forbidden"
            admitted = caller.role in roles and caller.credential in credentials
            if path == "/api/auth/logout-all" and caller.credential == "jwt":
                caller.token = login(client, caller.account.email).token  # it ended every earlier token too
            if refused == admitted:
                wrong.append(
                    f"{method} {path} as {caller.role} with {caller.credential}: {response.status_code} "
                    f"{response.text[:120]} (expected {'admitted' if admitted else 'refused'})"
                )
    assert wrong == []
