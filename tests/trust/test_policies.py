"""The trust policies themselves: who may manage them, what a policy must say, and that deleting one
stops its keys at once."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import add_member, bearer, create_key, register
from tests.oidc_issuer import AUDIENCE, Issuer, recording_listener
from tests.trust.conftest import create_policy, exchange

GITHUB = "https://token.actions.githubusercontent.com"


def test_owner_and_admin_manage_policies_others_may_not(client: TestClient, database: Database) -> None:
    owner = register(client)
    admin = add_member(client, database, owner, "ADMIN")
    created = create_policy(client, admin, GITHUB, claims={"repository": "acme/agent"}, ttlSeconds=120)
    assert created["createdBy"] == {"id": admin.user_id, "name": "Member", "email": admin.email}
    assert created["ttlSeconds"] == 120 and created["access"] == "ingest" and created["issuer"] == GITHUB
    assert [p["id"] for p in client.get("/api/org/trust-policies", headers=owner.headers).json()] == [created["id"]]
    for role in ("MEMBER", "VIEWER"):
        member = add_member(client, database, owner, role)
        assert client.get("/api/org/trust-policies", headers=member.headers).status_code == 403
        body = {"name": "x", "issuer": GITHUB, "audience": AUDIENCE, "claims": {"repository": "a/b"}, "access": "read"}
        assert client.post("/api/org/trust-policies", json=body, headers=member.headers).status_code == 403
        assert client.delete(f"/api/org/trust-policies/{created['id']}", headers=member.headers).status_code == 403


def test_the_default_ttl_is_fifteen_minutes(client: TestClient) -> None:
    owner = register(client)
    body = {"name": "ci", "issuer": GITHUB, "audience": AUDIENCE, "claims": {"repository": "a/b"}, "access": "read"}
    assert client.post("/api/org/trust-policies", json=body, headers=owner.headers).json()["ttlSeconds"] == 900


def test_another_orgs_policy_is_not_found(client: TestClient) -> None:
    policy = create_policy(client, register(client), GITHUB, claims={"repository": "acme/agent"})
    stranger = register(client)
    assert client.get("/api/org/trust-policies", headers=stranger.headers).json() == []
    response = client.delete(f"/api/org/trust-policies/{policy['id']}", headers=stranger.headers)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"issuer": "http://token.actions.example.com"}, "issuer"),  # plain HTTP
        ({"issuer": "https://10.0.0.8"}, "issuer"),
        ({"issuer": "https://169.254.169.254/latest"}, "issuer"),
        ({"issuer": "https://[::1]:8443"}, "issuer"),
        ({"issuer": "https://[::ffff:127.0.0.1]"}, "issuer"),
        ({"issuer": "https://user:pw@issuer.example.com"}, "issuer"),
        ({"issuer": "file:///etc/passwd"}, "issuer"),
        ({"issuer": "not a url"}, "issuer"),
        ({"claims": {}}, "claims"),
        ({"claims": {"repository": "*"}}, "claims.repository"),
        ({"claims": {"ref": "refs/heads/main"}}, "claims"),  # GitHub: says nothing of whose jobs
        ({"claims": {"bad name!": "x"}}, "claims.bad name!.[key]"),
        ({"claims": {f"c{i}": "x" for i in range(21)}}, "claims"),
        ({"ttlSeconds": 59}, "ttlSeconds"),
        ({"ttlSeconds": 3601}, "ttlSeconds"),
        ({"ttlSeconds": "900"}, "ttlSeconds"),
        ({"access": "admin"}, "access"),
        ({"access": None}, "access"),
        ({"name": "  "}, "name"),
        ({"audience": ""}, "audience"),
    ],
)
def test_a_policy_that_cannot_be_right_is_refused(client: TestClient, change: dict[str, object], field: str) -> None:
    body = {"name": "ci", "issuer": GITHUB, "audience": AUDIENCE, "claims": {"repository": "acme/agent"}} | {
        "access": "ingest"
    }
    response = client.post("/api/org/trust-policies", json=body | change, headers=register(client).headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert field in [detail["field"] for detail in response.json()["details"]], response.json()


def test_gitlab_policies_must_name_a_project_or_namespace(client: TestClient) -> None:
    owner = register(client)
    body = {"name": "gl", "issuer": "https://gitlab.com", "audience": AUDIENCE, "access": "ingest"}
    refused = client.post("/api/org/trust-policies", json=body | {"claims": {"ref": "main"}}, headers=owner.headers)
    assert refused.status_code == 422
    claims = {"project_path": "acme/agent", "ref_type": "branch", "ref": "main"}
    assert (
        client.post("/api/org/trust-policies", json=body | {"claims": claims}, headers=owner.headers).status_code == 201
    )


@pytest.mark.both_databases  # the policy's row lock and the keys' bulk revocation are SQL
def test_deleting_a_policy_revokes_its_keys_at_once(client: TestClient, issuer: Issuer) -> None:
    owner = register(client)
    policy = create_policy(client, owner, issuer.url)
    other = create_policy(
        client, owner, issuer.url, name="dev", claims={"repository": "acme/agent", "ref": "refs/heads/dev"}
    )
    personal = create_key(client, owner)
    minted = exchange(client, issuer.token()).json()["key"]
    kept = exchange(client, issuer.token(ref="refs/heads/dev")).json()["key"]
    assert client.get("/api/auth/me", headers=bearer(minted)).status_code == 200

    deleted = client.delete(f"/api/org/trust-policies/{policy['id']}", headers=owner.headers)
    assert deleted.status_code == 200 and deleted.json() == {"success": True}
    refused = client.get("/api/auth/me", headers=bearer(minted))
    assert refused.status_code == 401 and refused.json()["code"] == "api_key_revoked"
    assert client.get("/api/auth/me", headers=bearer(kept)).status_code == 200
    assert client.get("/api/auth/me", headers=bearer(personal)).status_code == 200
    assert [p["id"] for p in client.get("/api/org/trust-policies", headers=owner.headers).json()] == [other["id"]]
    assert exchange(client, issuer.token()).json()["code"] == "no_matching_policy"
    again = client.delete(f"/api/org/trust-policies/{policy['id']}", headers=owner.headers)
    assert again.status_code == 404

    [entry] = client.get("/api/audit?action=trust_policy.delete", headers=owner.headers).json()
    assert entry["resourceId"] == policy["id"] and entry["after"] == {"revokedKeys": 1}


def test_ephemeral_keys_are_not_rolled_and_leave_the_list_once_expired(
    client: TestClient, issuer: Issuer, database: Database
) -> None:
    owner = register(client)
    create_policy(client, owner, issuer.url, ttlSeconds=60)
    exchange(client, issuer.token())
    [minted] = client.get("/api/org/keys", headers=owner.headers).json()
    rolled = client.post(f"/api/org/keys/{minted['id']}/roll", json={}, headers=owner.headers)
    assert rolled.status_code == 409 and rolled.json()["code"] == "api_key_ephemeral"

    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=61)):
        assert client.get("/api/org/keys", headers=owner.headers).json() == []
        everything = client.get("/api/org/keys?includeRevoked=true", headers=owner.headers).json()
        assert [k["id"] for k in everything] == [minted["id"]]


def test_a_ci_jobs_keys_do_not_count_against_its_creators_own_limit(client: TestClient, issuer: Issuer) -> None:
    owner = register(client)
    create_policy(client, owner, issuer.url)
    for _ in range(3):
        assert exchange(client, issuer.token()).status_code == 201
    assert client.post("/api/org/keys", json={"name": "laptop"}, headers=owner.headers).status_code == 201


def test_an_issuer_on_a_private_address_is_never_reached(client: TestClient, issuer: Issuer) -> None:
    """`localhost` is not an allowed host (only 127.0.0.1 is, in these tests): it resolves to loopback,
    so the exchange refuses before any connection is made."""
    owner = register(client)
    with recording_listener() as listener:
        url = f"https://localhost:{listener.port}"
        create_policy(client, owner, url)
        response = exchange(client, issuer.token(iss=url))
        assert response.status_code == 401 and response.json()["code"] == "invalid_id_token"
        assert "loopback" in response.json()["error"]
    assert listener.connections == 0
