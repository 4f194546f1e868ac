"""One surface: every operation in the server's OpenAPI document is in both SDKs under the same name, or is
listed here as not for SDK users, with the reason. A new route fails this test until it is decided here.

The TypeScript SDK's surface comes from ``node sdks/typescript/scripts/surface.mjs`` (it reads the built
``sdks/typescript/dist``), which prints ``{"methods": [...], "sessionMethods": [...], "errors": [...]}``.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

import provenant_sdk
from provenant_sdk import AsyncProvenantClient, LiveSession, ProvenantClient

REPOSITORY = Path(__file__).resolve().parents[3]
SURFACE_SCRIPT = REPOSITORY / "sdks" / "typescript" / "scripts" / "surface.mjs"

PERSON_ONLY = "needs a person's JWT (the dashboard does it); an API key is refused"
ACCOUNT_FLOW = "a public account flow done in the dashboard, before there is any key"

NOT_IN_SDKS = {
    "GET /api/health": "a load balancer's liveness check, not an API user's call",
    "GET /api/ready": "a load balancer's readiness check, not an API user's call",
    "POST /api/auth/register": ACCOUNT_FLOW,
    "POST /api/auth/login": ACCOUNT_FLOW,
    "GET /api/auth/invitations/{}": ACCOUNT_FLOW,
    "POST /api/auth/accept-invitation": ACCOUNT_FLOW,
    "POST /api/auth/logout": PERSON_ONLY,
    "POST /api/auth/logout-all": PERSON_ONLY,
    "POST /api/auth/password": PERSON_ONLY,
    "POST /api/auth/login/2fa": ACCOUNT_FLOW,
    "POST /api/auth/2fa/totp": PERSON_ONLY,
    "POST /api/auth/2fa/totp/confirm": PERSON_ONLY,
    "DELETE /api/auth/2fa": PERSON_ONLY,
    "POST /api/auth/2fa/recovery-codes": PERSON_ONLY,
    "GET /api/org/settings": "the organization's security settings, which the dashboard's Team page shows",
    "PATCH /api/org/settings": PERSON_ONLY,
    "POST /api/keys/report-leaked": "for secret scanners, which report a found key without having one",
    "GET /api/auth/config": "what the sign-in page may offer, read by the dashboard before anyone signs in",
    "POST /api/auth/forgot-password": ACCOUNT_FLOW,
    "POST /api/auth/reset-password": ACCOUNT_FLOW,
    "POST /api/org/members/{}/password-reset": PERSON_ONLY,
    "POST /api/auth/token-exchange": "made by the clients themselves when no API key is given and a CI "
    "provider's ID token is at hand (Trusted CI), never called by hand",
    "GET /api/org/trust-policies": "trust is set up by an OWNER or ADMIN in the dashboard, not by the CI "
    "jobs it lets in",
    "POST /api/org/trust-policies": "as above: a job's SDK must not widen the trust that admits it",
    "DELETE /api/org/trust-policies/{}": "as above",
    "GET /api/auth/sso/start": "a browser's redirect to the company's identity provider",
    "GET /api/auth/sso/callback": "the identity provider's redirect back, in the browser that started",
    "POST /api/auth/sso/exchange": ACCOUNT_FLOW,
    "GET /api/auth/github": "a browser's redirect to GitHub",
    "GET /api/auth/github/callback": "GitHub's redirect back, in the browser that started",
    "GET /api/org/sso": "single sign-on is set up by an OWNER signed in with a password, in the dashboard",
    "PUT /api/org/sso": PERSON_ONLY,
    "DELETE /api/org/sso": PERSON_ONLY,
    "POST /api/org/sso/discovery": PERSON_ONLY,
}

# "METHOD path" -> the SDK methods that make it: (resource method, flat method kept for older code).
OPERATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "GET /api/auth/me": (("me", "me"),),
    "GET /api/org/keys": (("api_keys.list", "list_api_keys"),),
    "POST /api/org/keys": (("api_keys.create", "create_api_key"),),
    "DELETE /api/org/keys/{}": (("api_keys.revoke", "revoke_api_key"),),
    "POST /api/org/keys/{}/roll": (("api_keys.roll", "roll_api_key"),),
    "GET /api/org/keys/{}/usage": (("api_keys.usage", "api_key_usage"),),
    "GET /api/agents": (("agents.list", "list_agents"),),
    "GET /api/agents/{}": (("agents.get", "get_agent"),),
    "POST /api/agents": (("agents.create", "create_agent"),),
    "POST /api/agents/get-or-create": (("agents.get_or_create", "get_or_create_agent"),),
    "PATCH /api/agents/{}": (("agents.update", "update_agent"),),
    "DELETE /api/agents/{}": (("agents.archive", "archive_agent"),),
    "GET /api/sessions": (("sessions.list", "list_sessions"),),
    "POST /api/sessions": (("sessions.create", "create_session"),),
    "GET /api/sessions/{}": (("sessions.get", "get_session"),),
    "PATCH /api/sessions/{}": (("sessions.update", "update_session"),),
    "DELETE /api/sessions/{}": (("sessions.delete", "delete_session"),),
    "POST /api/sessions/{}/turns": (("sessions.add_turn", "add_turn"), ("sessions.add_turns", "add_turns")),
    "POST /api/sessions/{}/end": (("sessions.end", "end_session"),),
    "GET /api/org/members": (("members.list", "list_members"),),
    "PATCH /api/org/members/{}/role": (("members.change_role", "change_member_role"),),
    "DELETE /api/org/members/{}": (("members.remove", "remove_member"),),
    "GET /api/org/invitations": (("invitations.list", "list_invitations"),),
    "POST /api/org/invitations": (("invitations.create", "create_invitation"),),
    "DELETE /api/org/invitations/{}": (("invitations.cancel", "cancel_invitation"),),
    "GET /api/audit": (("audit.list", "list_audit_entries"),),
    "GET /api/audit/export": (("audit.export", "export_audit_log"),),
}

# Client methods that are not API operations: background mode and the client's own life.
CLIENT_METHODS = {"log_turn": "logTurn", "flush": "flush", "session": "session", "close": "shutdown"}
# `close` is the Python name of every closeable thing (files, httpx); the issue named TypeScript's `shutdown`.

TYPESCRIPT_ONLY = {
    "agents.createSession": "in the first TypeScript SDK; kept so that older TypeScript code still runs",
}


def camel(dotted: str) -> str:
    return ".".join(re.sub(r"_([a-z])", lambda m: m.group(1).upper(), part) for part in dotted.split("."))


def resolve(client: object, dotted: str) -> Any:
    target = client
    for part in dotted.split("."):
        target = getattr(target, part)
    return target


@pytest.fixture(scope="module")
def server_operations(server_url: str) -> set[str]:
    document = httpx.get(f"{server_url}/api/openapi.json", timeout=30).json()
    return {
        f"{method.upper()} {re.sub(r'{[^}]+}', '{}', path)}"
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


@pytest.fixture(scope="module")
def typescript() -> dict[str, list[str]]:
    node = shutil.which("node")
    assert node, "node is needed to read the TypeScript SDK's surface"
    result = subprocess.run([node, str(SURFACE_SCRIPT)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, (
        f"{SURFACE_SCRIPT} failed (build the TypeScript SDK first: npm --prefix sdks/typescript run build):\n"
        f"{result.stderr}"
    )
    surface: dict[str, list[str]] = json.loads(result.stdout)
    return surface


def python_resource_methods(client: object) -> set[str]:
    """``resource.method`` for every public method of every resource of a client."""
    methods = set()
    for name, resource in vars(client).items():
        if type(resource).__module__.startswith("provenant_sdk._resources"):
            methods |= {f"{name}.{m}" for m in dir(resource) if not m.startswith("_")}
    return methods


def test_every_server_operation_is_decided(server_operations: set[str]) -> None:
    undecided = server_operations - OPERATIONS.keys() - NOT_IN_SDKS.keys()
    assert not undecided, f"new routes: add each to OPERATIONS (and both SDKs) or to NOT_IN_SDKS: {undecided}"
    gone = (OPERATIONS.keys() | NOT_IN_SDKS.keys()) - server_operations
    assert not gone, f"routes the server no longer has: {gone}"


@pytest.mark.parametrize("client_class", [ProvenantClient, AsyncProvenantClient])
def test_python_has_the_resource_and_the_flat_method(client_class: type) -> None:
    client = client_class(base_url="http://127.0.0.1:9", api_key="pk_live_" + "0" * 32)
    for operation, methods in OPERATIONS.items():
        for resource_method, flat_method in methods:
            assert callable(resolve(client, resource_method)), f"{operation}: {resource_method}"
            assert callable(getattr(client, flat_method)), f"{operation}: {flat_method}"
    for method in CLIENT_METHODS:
        assert callable(getattr(client, method))


def test_typescript_has_every_operation_in_camel_case(typescript: dict[str, list[str]]) -> None:
    expected = {camel(resource_method) for methods in OPERATIONS.values() for resource_method, _ in methods}
    assert expected - set(typescript["methods"]) == set()


def test_the_two_sdks_have_the_same_methods(typescript: dict[str, list[str]]) -> None:
    client = ProvenantClient(base_url="http://127.0.0.1:9", api_key="pk_live_" + "0" * 32)
    python = (
        {camel(method) for method in python_resource_methods(client)} | {"me"} | set(CLIENT_METHODS.values())
    )
    assert python == set(typescript["methods"]) - TYPESCRIPT_ONLY.keys()
    assert python_resource_methods(client) == python_resource_methods(
        AsyncProvenantClient(base_url="http://127.0.0.1:9", api_key="pk_live_" + "0" * 32)
    )


def test_session_handles_have_the_same_methods(typescript: dict[str, list[str]]) -> None:
    python = {camel(name) for name, value in vars(LiveSession).items() if callable(value) and name[0] != "_"}
    assert python == set(typescript["sessionMethods"])


def test_the_error_classes_are_the_same(typescript: dict[str, list[str]]) -> None:
    python = {
        name
        for name in provenant_sdk.__all__
        if isinstance(getattr(provenant_sdk, name), type)
        and issubclass(getattr(provenant_sdk, name), provenant_sdk.ProvenantError)
    }
    assert python == set(typescript["errors"])
