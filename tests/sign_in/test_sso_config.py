"""PUT/GET/DELETE /api/org/sso: who may, what is checked before saving, what is never shown."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from provenant.db import Database
from provenant.models import SsoConfig
from tests.factories import add_member, bearer, register
from tests.oidc_issuer import CLIENT_ID, CLIENT_SECRET, Issuer, recording_listener
from tests.sign_in.conftest import DOMAIN, completed_code, configure_sso, exchange, sign_in_through_provider


@pytest.mark.both_databases  # the configuration and its domains are SQL
def test_an_owner_saves_it_and_the_secret_is_never_shown_nor_stored_plain(
    client: TestClient, database: Database, issuer: Issuer
) -> None:
    owner = register(client)
    assert client.get("/api/auth/config").json()["sso"] is False
    saved = configure_sso(client, owner, issuer, domains=["ACME.Example.COM.", "Bücher.example.com"], enforce=True)
    assert saved["clientSecretSet"] is True and "clientSecret" not in saved
    assert saved["domains"] == ["acme.example.com", "xn--bcher-kva.example.com"]
    assert saved["clientId"] == CLIENT_ID and saved["defaultRole"] == "MEMBER" and saved["enforce"] is True
    assert saved["redirectUri"] == "http://testserver/api/auth/sso/callback"
    assert client.get("/api/org/sso", headers=owner.headers).json() == saved
    with database.transaction(writes=False) as session:
        stored = session.scalars(select(SsoConfig)).one()
        assert CLIENT_SECRET not in stored.client_secret and stored.client_secret.startswith("v1.")
    assert client.get("/api/auth/config").json()["sso"] is True

    kept = configure_sso(client, owner, issuer, clientSecret=None, enforce=False)  # the secret left out: kept
    assert kept["clientSecretSet"] is True and kept["enforce"] is False
    assert CLIENT_SECRET not in client.get("/api/audit", headers=owner.headers).text

    assert client.delete("/api/org/sso", headers=owner.headers).status_code == 204
    missing = client.get("/api/org/sso", headers=owner.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "sso_not_configured"
    assert client.delete("/api/org/sso", headers=owner.headers).status_code == 204


def test_only_an_owner_in_person_may_see_or_change_it(client: TestClient, database: Database, issuer: Issuer) -> None:
    owner = register(client)
    configure_sso(client, owner, issuer)
    key = client.post("/api/org/keys", json={"name": "ci"}, headers=owner.headers).json()["key"]
    for role in ("ADMIN", "MEMBER", "VIEWER"):
        member = add_member(client, database, owner, role)
        for method in ("GET", "DELETE"):
            assert client.request(method, "/api/org/sso", headers=member.headers).status_code == 403
    for method in ("GET", "DELETE", "PUT"):
        answer = client.request(method, "/api/org/sso", headers=bearer(key), json={})
        assert answer.status_code == 403, method
    assert client.get("/api/org/sso").status_code == 401
    assert client.get("/api/org/sso", headers=owner.headers).status_code == 200  # untouched


def test_another_orgs_configuration_is_its_own(client: TestClient, issuer: Issuer) -> None:
    first = register(client)
    configure_sso(client, first, issuer)
    second = register(client)
    assert client.get("/api/org/sso", headers=second.headers).json()["code"] == "sso_not_configured"
    assert client.delete("/api/org/sso", headers=second.headers).status_code == 204
    assert client.get("/api/org/sso", headers=first.headers).status_code == 200


@pytest.mark.both_databases  # the domain's uniqueness is the database's
def test_a_domain_belongs_to_one_org(client: TestClient, issuer: Issuer) -> None:
    first = register(client)
    configure_sso(client, first, issuer)
    second = register(client)
    body = {"issuer": issuer.url, "clientId": "c", "clientSecret": "s", "domains": [DOMAIN.upper()]}
    taken = client.put("/api/org/sso", json=body, headers=second.headers)
    assert taken.status_code == 409 and taken.json()["code"] == "domain_taken"
    assert client.get("/api/org/sso", headers=second.headers).status_code == 404  # nothing half-saved
    configure_sso(client, first, issuer, domains=["other.example.com"])  # the first lets it go
    assert client.put("/api/org/sso", json=body, headers=second.headers).status_code == 200


@pytest.mark.parametrize(
    "domain",
    [
        "*.acme.com",
        "acme.com/path",
        "a@acme.com",
        "https://acme.com",
        "localhost",
        "gmail.com",
        "",
        " ",
        "acme..com",
        "xn--zz.com",
        "a" * 64 + ".com",
        "acme.com\u202e",
        "ac me.com",
        "acme.com:443",
        "%61cme.com",
    ],
)
def test_hostile_domains_are_refused(client: TestClient, issuer: Issuer, domain: str) -> None:
    owner = register(client)
    body = {"issuer": issuer.url, "clientId": "c", "clientSecret": "s", "domains": [domain]}
    answer = client.put("/api/org/sso", json=body, headers=owner.headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["details"][0]["field"] == "domains.0"


def test_a_discovery_that_fails_is_a_422_naming_issuer(client: TestClient, issuer: Issuer) -> None:
    owner = register(client)
    body = {"clientId": "c", "clientSecret": "s", "domains": [DOMAIN]}
    with recording_listener() as silent:
        cases = [
            f"{issuer.url}/",  # not the issuer its document names
            "http://10.0.0.1",  # plain HTTP, private
            "https://127.0.0.2",  # loopback, not allowed
            "https://169.254.169.254/latest",  # the cloud's metadata service
            f"http://127.0.0.1:{silent.port}",  # an allowed host that never answers
            "https://user:pw@example.com",
            "not a url",
        ]
        for url in cases:
            answer = client.put("/api/org/sso", json=body | {"issuer": url}, headers=owner.headers)
            assert answer.status_code == 422, (url, answer.text)
            assert answer.json()["details"][0]["field"] == "issuer", url
    issuer.discovery_overrides = {"code_challenge_methods_supported": ["plain"]}
    answer = client.put("/api/org/sso", json=body | {"issuer": issuer.url}, headers=owner.headers)
    assert answer.status_code == 422 and "S256" in answer.json()["details"][0]["message"]
    assert client.get("/api/org/sso", headers=owner.headers).status_code == 404


def test_the_first_save_needs_the_secret(client: TestClient, issuer: Issuer) -> None:
    owner = register(client)
    body = {"issuer": issuer.url, "clientId": "c", "domains": [DOMAIN]}
    answer = client.put("/api/org/sso", json=body, headers=owner.headers)
    assert answer.status_code == 422 and answer.json()["details"][0]["field"] == "clientSecret"
    for bad in ({"defaultRole": "OWNER"}, {"defaultRole": "ADMIN"}, {"enforce": "true"}, {"domains": []}):
        assert (
            client.put("/api/org/sso", json=body | {"clientSecret": "s"} | bad, headers=owner.headers).status_code
            == 422
        )


def test_test_discovery_shows_the_endpoints_and_saves_nothing(client: TestClient, issuer: Issuer) -> None:
    owner = register(client)
    shown = client.post("/api/org/sso/discovery", json={"issuer": issuer.url}, headers=owner.headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["tokenEndpoint"] == f"{issuer.url}/token"
    assert shown.json()["tokenAuthMethod"] == "client_secret_basic"
    refused = client.post("/api/org/sso/discovery", json={"issuer": "https://10.1.2.3"}, headers=owner.headers)
    assert refused.status_code == 422 and refused.json()["details"][0]["field"] == "issuer"
    assert client.get("/api/org/sso", headers=owner.headers).status_code == 404


def test_the_secret_is_sent_the_way_the_provider_takes_it(client: TestClient, issuer: Issuer) -> None:
    issuer.discovery_overrides = {"token_endpoint_auth_methods_supported": ["client_secret_post"]}
    configure_sso(client, register(client), issuer)
    assert exchange(client, completed_code(sign_in_through_provider(client, f"alice@{DOMAIN}"))).status_code == 200
    assert issuer.token_requests[-1]["client_secret"] == CLIENT_SECRET
