"""Who may call what: every route, with every key access, as every role, against the real app.

The expectations are written out here from the contract (the Roles table and "Key access and
rolling"), not derived from provenant.auth.roles, so a change there that the contract does not make
fails this test. The routes come from the app itself: a new route fails until it has a line in
ROUTES.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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
    # A reset link acts as the member: issued by a person who may change roles, never through a key.
    "issue reset links": (ADMINS, frozenset({"jwt"})),
    "read audit": (ADMINS, frozenset({"jwt", "full", "read"})),
    # Requiring two-factor sign-in and the like: an OWNER in person, never a key, however it leaked.
    "change org settings": (frozenset({"OWNER"}), frozenset({"jwt"})),
    "read trust policies": (ADMINS, frozenset({"jwt", "full", "read"})),
    "manage trust policies": (ADMINS, frozenset({"jwt", "full"})),
}

PUBLIC = "public"

ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/api/health"): PUBLIC,
    ("GET", "/api/ready"): PUBLIC,
    ("POST", "/api/auth/register"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("GET", "/api/auth/invitations/{token}"): PUBLIC,
    ("POST", "/api/auth/accept-invitation"): PUBLIC,
    ("POST", "/api/keys/report-leaked"): PUBLIC,
    ("GET", "/api/auth/config"): PUBLIC,
    ("POST", "/api/auth/forgot-password"): PUBLIC,
    ("POST", "/api/auth/reset-password"): PUBLIC,
    ("POST", "/api/auth/login/2fa"): PUBLIC,
    ("POST", "/api/auth/token-exchange"): PUBLIC,  # the CI provider's ID token is the credential
    # Single sign-on and GitHub: the browser's redirects, and the one-time code they end with, are the credential.
    ("GET", "/api/auth/sso/start"): PUBLIC,
    ("GET", "/api/auth/sso/callback"): PUBLIC,
    ("POST", "/api/auth/sso/exchange"): PUBLIC,
    ("GET", "/api/auth/github"): PUBLIC,
    ("GET", "/api/auth/github/callback"): PUBLIC,
    ("GET", "/api/auth/me"): "anyone signed in",
    ("POST", "/api/auth/logout"): "anyone signed in",
    ("POST", "/api/auth/logout-all"): "a person",
    ("POST", "/api/auth/password"): "a person",
    ("POST", "/api/auth/2fa/totp"): "a person",
    ("POST", "/api/auth/2fa/totp/confirm"): "a person",
    ("DELETE", "/api/auth/2fa"): "a person",
    ("POST", "/api/auth/2fa/recovery-codes"): "a person",
    ("GET", "/api/org/settings"): "read",
    ("PATCH", "/api/org/settings"): "change org settings",
    ("GET", "/api/org/sso"): "change org settings",  # who may change it reads it (its redirect URI, its domains)
    ("PUT", "/api/org/sso"): "change org settings",
    ("DELETE", "/api/org/sso"): "change org settings",
    ("POST", "/api/org/sso/discovery"): "change org settings",
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
    ("POST", "/api/org/members/{user_id}/password-reset"): "issue reset links",
    ("GET", "/api/org/invitations"): "list invitations",
    ("POST", "/api/org/invitations"): "invite",
    ("DELETE", "/api/org/invitations/{invitation_id}"): "invite",
    ("GET", "/api/audit"): "read audit",
    ("GET", "/api/audit/export"): "read audit",
    ("GET", "/api/org/trust-policies"): "read trust policies",
    ("POST", "/api/org/trust-policies"): "manage trust policies",
    ("DELETE", "/api/org/trust-policies/{policy_id}"): "manage trust policies",
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
            agent_id=UNKNOWN_ID,
            session_id=UNKNOWN_ID,
            key_id=UNKNOWN_ID,
            user_id=UNKNOWN_ID,
            invitation_id=UNKNOWN_ID,
            policy_id=UNKNOWN_ID,
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


# --- credentials in answers: whom they act as ----------------------------------------------------

# Fields of an answer that are credentials (or a link that makes one).
CREDENTIAL_FIELDS = frozenset({"key", "token", "inviteLink", "resetLink", "secret", "mfaToken", "recoveryCodes"})

# Every route whose answer carries a credential, and whom it acts as. The rule (issue 24): never
# anyone but the caller; whoever may see or revoke another's key or account gets no credential of theirs.
MINTS: dict[tuple[str, str], str] = {
    ("POST", "/api/auth/register"): "the caller: the account it creates",
    ("POST", "/api/auth/login"): "the caller, after their password (with two-factor on: an mfaToken only)",
    ("POST", "/api/auth/login/2fa"): "the caller, after their password and a code of their own second factor",
    ("POST", "/api/auth/2fa/totp"): "the caller: a secret for their own authenticator app (a person, never a key)",
    ("POST", "/api/auth/2fa/totp/confirm"): "the caller: their own recovery codes",
    ("POST", "/api/auth/2fa/recovery-codes"): "the caller, after their password: their own recovery codes",
    ("POST", "/api/auth/password"): "the caller, after their current password",
    ("POST", "/api/auth/accept-invitation"): "the caller: a new account, or an existing one after its password",
    ("POST", "/api/org/keys"): "the caller",
    ("POST", "/api/org/keys/{key_id}/roll"): "the caller, who must be the key's creator",
    ("POST", "/api/org/invitations"): "nobody yet: a new account at a role the caller may grant (an existing "
    "account joins only with its own password)",
    ("POST", "/api/auth/reset-password"): "the caller, who holds the account's one-time reset link",
    # The one exception, which the contract makes ("Password reset"), for installs without email: a person (never a
    # key) who may change the member's role; once, for an hour, audited; the member is emailed that it was issued,
    # and using it signs them out everywhere (tests/team/test_member_password_reset.py).
    ("POST", "/api/org/members/{user_id}/password-reset"): "the member: a reset link, by the contract",
    ("POST", "/api/auth/sso/exchange"): "the person the identity provider (or GitHub) signed in, in the browser "
    "that started it: the code is theirs, once, within 60 s (with two-factor on: an mfaToken only)",
    ("POST", "/api/auth/token-exchange"): "the trust policy's creator, for the CI job that person's policy names "
    "(their current role narrowed by the policy's access; the contract's Trusted CI)",
}


def _properties(schema: dict[str, Any], schemas: dict[str, Any], seen: frozenset[str] = frozenset()) -> set[str]:
    """The property names an answer of ``schema`` may carry, through $ref, anyOf and arrays."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return set() if name in seen else _properties(schemas[name], schemas, seen | {name})
    found = set(schema.get("properties", {}))
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        found |= _properties(alternative, schemas, seen)
    if "items" in schema:
        found |= _properties(schema["items"], schemas, seen)
    return found


def test_every_route_that_answers_a_credential_says_whom_it_acts_as(app: FastAPI) -> None:
    document = app.openapi()
    schemas = document["components"]["schemas"]
    answering = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status, response in operation.get("responses", {}).items()
        if status.startswith("2")
        for content in response.get("content", {}).values()
        if _properties(content.get("schema", {}), schemas) & CREDENTIAL_FIELDS
    }
    assert answering - MINTS.keys() == set(), "a route answering a credential needs its line in MINTS"
    assert MINTS.keys() - answering == set(), "MINTS names a route that no longer answers a credential"


def _me(client: TestClient, token: str) -> tuple[str, str]:
    me = client.get("/api/auth/me", headers=bearer(token)).json()
    return me["id"], me["role"]


def test_a_key_minted_or_rolled_acts_as_the_caller_and_nobody_rolls_anothers(
    client: TestClient, callers: list[Caller]
) -> None:
    """Every role with every credential, against a key of every role: creating a key gives one that
    acts as the caller; rolling one's own key too; rolling another's is refused — 403 ``forbidden``
    when the caller may see it (OWNER, ADMIN), 404 when they may not — and carries no key."""
    people = {caller.role: caller.account for caller in callers if caller.credential == "jwt"}
    targets = {role: _new_key(client, account, f"{role}'s target") for role, account in people.items()}
    wrong: list[str] = []
    for caller in callers:
        mints = caller.credential in RULES["manage own keys"][1]
        created = client.post("/api/org/keys", json={"name": "minted"}, headers=bearer(caller.token))
        if mints and (created.status_code != 201 or _me(client, created.json()["key"]) != _identity(caller)):
            wrong.append(f"create as {caller.role} with {caller.credential}: {created.status_code} {created.text[:80]}")
        own = _new_key(client, caller.account, "own")
        for owner_role, target in [
            (caller.role, own),
            *((role, k) for role, k in targets.items() if role != caller.role),
        ]:
            response = client.post(f"/api/org/keys/{target}/roll", json={}, headers=bearer(caller.token))
            if target == own and mints:
                ok = response.status_code == 201 and _me(client, response.json()["key"]) == _identity(caller)
            elif mints and caller.role not in ADMINS:
                ok = response.status_code == 404 and response.json()["code"] == "not_found"
            else:
                ok = response.status_code == 403 and response.json()["code"] == "forbidden"
            if not ok or (response.status_code != 201 and "pk_live_" in response.text):
                wrong.append(
                    f"roll {owner_role}'s key as {caller.role} with {caller.credential}: "
                    f"{response.status_code} {response.text[:80]}"
                )
    assert wrong == []


def _identity(caller: Caller) -> tuple[str, str]:
    return caller.account.user_id, caller.role


def _new_key(client: TestClient, account: Account, name: str) -> str:
    created = client.post("/api/org/keys", json={"name": name}, headers=account.headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])
