"""Organizations that require two-factor sign-in: /api/org/settings, and the gate every JWT passes."""

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from provenant.auth.deps import is_authenticated
from tests.factories import (
    PASSWORD,
    Account,
    audit_entries,
    create_agent,
    invite_and_accept,
    key_headers,
    login,
    register,
    turn_on_two_factor,
)

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _require(client: TestClient, owner: Account, value: bool = True) -> None:
    response = client.patch("/api/org/settings", json={"requireTwoFactor": value}, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert response.json()["requireTwoFactor"] is value


def _refused(response: object) -> bool:
    return response.status_code == 403 and response.json()["code"] == "two_factor_required"  # type: ignore[attr-defined]


def test_settings_read_as_the_contract_says(client: TestClient) -> None:
    owner = register(client)
    viewer = invite_and_accept(client, owner, "VIEWER")
    response = client.get("/api/org/settings", headers=viewer.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "name", "slug", "requireTwoFactor", "createdAt"}
    assert body["id"] == owner.org_id and body["requireTwoFactor"] is False and body["createdAt"].endswith("Z")


def test_only_an_owner_in_person_changes_the_settings(client: TestClient) -> None:
    owner = register(client)
    turn_on_two_factor(client, owner)
    admin = invite_and_accept(client, owner, "ADMIN")
    turn_on_two_factor(client, admin)
    for headers in (admin.headers, key_headers(client, owner)):
        response = client.patch("/api/org/settings", json={"requireTwoFactor": True}, headers=headers)
        assert response.status_code == 403 and response.json()["code"] == "forbidden", response.text
    assert client.get("/api/org/settings", headers=owner.headers).json()["requireTwoFactor"] is False


def test_an_owner_without_two_factor_turns_it_on_first(client: TestClient) -> None:
    owner = register(client)
    response = client.patch("/api/org/settings", json={"requireTwoFactor": True}, headers=owner.headers)
    assert response.status_code == 409 and response.json()["code"] == "two_factor_not_enabled"
    assert "Turn on two-factor sign-in for your own account first" in response.json()["error"]
    assert client.get("/api/org/settings", headers=owner.headers).json()["requireTwoFactor"] is False


@pytest.mark.both_databases
def test_requiring_it_is_audited_with_before_and_after(client: TestClient) -> None:
    owner = register(client)
    turn_on_two_factor(client, owner)
    _require(client, owner)
    _require(client, owner)  # no change: no entry
    _require(client, owner, False)
    entries = audit_entries(client, owner.headers, action="org.require_2fa_changed")
    assert [(entry["before"], entry["after"]) for entry in entries] == [
        ({"requireTwoFactor": True}, {"requireTwoFactor": False}),
        ({"requireTwoFactor": False}, {"requireTwoFactor": True}),
    ]
    assert entries[0]["resourceType"] == "org" and entries[0]["resourceId"] == owner.org_id


def test_hostile_settings_bodies_are_422(client: TestClient) -> None:
    owner = register(client)
    turn_on_two_factor(client, owner)
    for body in ({"requireTwoFactor": "true"}, {"requireTwoFactor": 1}, {"requireTwoFactor": "yes"}, [True]):
        response = client.patch("/api/org/settings", json=body, headers=owner.headers)
        assert response.status_code == 422, (body, response.text)
    assert client.patch("/api/org/settings", json={}, headers=owner.headers).status_code == 200
    assert client.get("/api/org/settings", headers=owner.headers).json()["requireTwoFactor"] is False


@pytest.mark.both_databases
def test_a_member_without_two_factor_can_only_turn_it_on_or_leave(client: TestClient) -> None:
    owner = register(client)
    turn_on_two_factor(client, owner)
    member = invite_and_accept(client, owner, "MEMBER")
    other, third = invite_and_accept(client, owner, "MEMBER"), invite_and_accept(client, owner, "VIEWER")
    key = key_headers(client, member)  # made before the rule: keys are not held to it
    _require(client, owner)

    for method, path in (
        ("GET", "/api/agents"),
        ("GET", "/api/org/members"),
        ("GET", "/api/org/keys"),
        ("POST", "/api/org/keys"),
        ("GET", "/api/org/settings"),
        ("GET", "/api/sessions"),
    ):
        assert _refused(client.request(method, path, json={"name": "x"}, headers=member.headers)), (method, path)
    password = client.post(
        "/api/auth/password",
        json={"currentPassword": PASSWORD, "newPassword": "another good one"},
        headers=member.headers,
    )
    assert _refused(password)

    me = client.get("/api/auth/me", headers=member.headers)
    assert me.status_code == 200 and me.json()["twoFactor"] is False and me.json()["twoFactorRequired"] is True
    assert client.get("/api/agents", headers=key).status_code == 200  # API keys are not affected
    create_agent(client, key)
    assert client.post("/api/auth/logout", headers=other.headers).status_code == 204
    assert client.post("/api/auth/logout-all", headers=third.headers).status_code == 204

    turn_on_two_factor(client, member)  # the two-factor routes stay open to them
    assert client.get("/api/agents", headers=member.headers).status_code == 200
    assert client.get("/api/auth/me", headers=member.headers).json()["twoFactor"] is True


def test_turning_it_off_in_such_an_org_closes_the_gate_again(client: TestClient) -> None:
    owner = register(client)
    turn_on_two_factor(client, owner)
    _require(client, owner)
    assert (
        client.request("DELETE", "/api/auth/2fa", json={"password": PASSWORD}, headers=owner.headers).status_code == 204
    )
    assert _refused(client.get("/api/agents", headers=owner.headers))
    assert _refused(client.patch("/api/org/settings", json={"requireTwoFactor": False}, headers=owner.headers))
    turn_on_two_factor(client, owner)
    assert client.get("/api/agents", headers=owner.headers).status_code == 200


def test_members_of_other_orgs_are_not_held_to_it(client: TestClient) -> None:
    owner = register(client)
    turn_on_two_factor(client, owner)
    _require(client, owner)
    elsewhere = register(client)
    assert client.get("/api/agents", headers=elsewhere.headers).status_code == 200
    assert client.get("/api/org/settings", headers=elsewhere.headers).json()["requireTwoFactor"] is False


# What a person held to the rule may still call: who am I, sign-out, and the two-factor routes themselves.
EXEMPT = {
    ("GET", "/api/auth/me"),
    ("POST", "/api/auth/logout"),
    ("POST", "/api/auth/logout-all"),
    ("POST", "/api/auth/2fa/totp"),
    ("POST", "/api/auth/2fa/totp/confirm"),
    ("DELETE", "/api/auth/2fa"),
    ("POST", "/api/auth/2fa/recovery-codes"),
}


def test_every_other_authenticated_route_answers_two_factor_required(client: TestClient, app: FastAPI) -> None:
    """Read from the app's own routes: a route added later is held to the rule unless it is listed above."""
    owner = register(client)
    turn_on_two_factor(client, owner)
    member = invite_and_accept(client, owner, "ADMIN")
    _require(client, owner)

    checked, wrong = 0, []
    for route in app.routes:
        if not (isinstance(route, APIRoute) and route.path.startswith("/api/") and is_authenticated(route.dependant)):
            continue
        for method in route.methods:
            url = re.sub(r"\{[a-z_]+\}", UNKNOWN_ID, route.path)
            body = {} if method in ("POST", "PATCH", "DELETE") else None
            response = client.request(method, url, json=body, headers=member.headers)
            if route.path in ("/api/auth/logout", "/api/auth/logout-all"):
                member = login(client, member.email)  # signing out ended the token
            if _refused(response) == ((method, route.path) in EXEMPT):
                wrong.append(f"{method} {route.path}: {response.status_code} {response.text[:100]}")
            checked += 1
    assert wrong == [] and checked > 30, wrong
