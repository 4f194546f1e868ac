"""Sign in with GitHub against a GitHub stand-in on loopback (configured as a GitHub Enterprise Server)."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database
from provenant.models import User
from tests.factories import PASSWORD, audit_entries, register
from tests.github_standin import CLIENT_ID, CLIENT_SECRET, GitHub, running_github
from tests.oidc_issuer import running_issuer
from tests.sign_in.conftest import DOMAIN, callback, configure_sso, exchange, query_of


@pytest.fixture
def github() -> Iterator[GitHub]:
    with running_github() as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path, database_url: str, github: GitHub) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        allowed_issuer_hosts=["127.0.0.1"],
        registrations_per_ip=1_000_000,
        github_client_id=CLIENT_ID,
        github_client_secret=CLIENT_SECRET,
        github_url=github.url,
        github_api_url=github.api_url,
    )


def through_github(client: TestClient) -> httpx.Response:
    started = client.get("/api/auth/github", follow_redirects=False)
    assert started.status_code == 302, started.text
    back = httpx.get(started.headers["location"], follow_redirects=False)
    assert back.status_code == 302
    return callback(client, back.headers["location"])


def signed_in(client: TestClient) -> dict[str, object]:
    location = through_github(client).headers["location"]
    assert location.startswith("/sso-complete?code="), location
    answer = exchange(client, query_of(location)["code"])
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def refusal(client: TestClient) -> str:
    location = through_github(client).headers["location"]
    assert location.startswith("/sso-complete?error="), location
    return query_of(location)["error"]


@pytest.mark.both_databases  # the org, the user and the linked identity are SQL
def test_a_new_person_gets_an_org_of_their_own_and_comes_back_to_it(client: TestClient, github: GitHub) -> None:
    assert client.get("/api/auth/config").json()["github"] is True
    first = signed_in(client)
    assert first["user"]["role"] == "OWNER" and first["user"]["email"] == "octocat@example.com"  # type: ignore[index]
    assert first["user"]["name"] == "The Octocat"  # type: ignore[index]
    github.emails = [{"email": "octo@new.example.com", "primary": True, "verified": True}]  # changed at GitHub
    again = signed_in(client)
    assert again["user"]["id"] == first["user"]["id"] and again["org"]["id"] == first["org"]["id"]  # type: ignore[index]
    request = github.token_requests[0]
    assert request["client_secret"] == CLIENT_SECRET and len(request["code_verifier"]) >= 43
    refused = client.post("/api/auth/login", json={"email": "octocat@example.com", "password": PASSWORD})
    assert refused.status_code == 401  # no password


def test_the_redirect_carries_state_and_pkce_and_a_browser_bound_cookie(client: TestClient, github: GitHub) -> None:
    started = client.get("/api/auth/github", follow_redirects=False)
    query = query_of(started.headers["location"])
    assert started.headers["location"].startswith(f"{github.url}/login/oauth/authorize?")
    assert query["client_id"] == CLIENT_ID and query["code_challenge_method"] == "S256" and len(query["state"]) >= 43
    assert query["redirect_uri"] == "http://testserver/api/auth/github/callback"
    cookie = started.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and query["state"] not in cookie


def test_an_existing_account_is_linked_by_its_verified_primary_email(client: TestClient, github: GitHub) -> None:
    owner = register(client)
    github.emails = [
        {"email": "other@example.com", "primary": False, "verified": True},
        {"email": owner.email.upper(), "primary": True, "verified": True},
    ]
    body = signed_in(client)
    assert body["user"]["id"] == owner.user_id and body["org"]["id"] == owner.org_id  # type: ignore[index]
    [linked] = audit_entries(client, owner.headers, action="auth.github_linked")
    assert linked["after"] == {"githubId": "583231", "githubLogin": "octocat"}
    assert len(audit_entries(client, owner.headers, action="auth.github_login")) == 1


@pytest.mark.parametrize(
    "emails",
    [
        [{"email": "octocat@example.com", "primary": True, "verified": False}],
        [{"email": "octocat@example.com", "primary": False, "verified": True}],
        [{"email": "octocat@example.com", "primary": "true", "verified": "true"}],
        [],
        {"message": "not a list"},
    ],
)
def test_only_a_primary_verified_email_signs_in(client: TestClient, github: GitHub, emails: object) -> None:
    register(client, email="octocat@example.com")
    github.emails = emails  # type: ignore[assignment]
    assert refusal(client) == "github_email_unverified"


def test_an_email_under_enforced_single_sign_on_is_not_linked(client: TestClient, github: GitHub) -> None:
    with running_issuer() as issuer:
        owner = register(client, email=f"owner@{DOMAIN}")
        configure_sso(client, owner, issuer, enforce=True)
        github.emails = [{"email": f"owner@{DOMAIN}", "primary": True, "verified": True}]
        assert refusal(client) == "sso_required"
        github.emails = [{"email": f"newcomer@{DOMAIN}", "primary": True, "verified": True}]
        assert refusal(client) == "sso_required"


def test_invite_only_servers_make_no_new_org(app: FastAPI, settings: Settings, database: Database) -> None:
    closed = create_app(settings.model_copy(update={"signup": "invite-only"}))
    with TestClient(closed, raise_server_exceptions=False) as client:
        assert refusal(client) == "signup_disabled"


def test_a_forged_state_or_another_browser_signs_nobody_in(app: FastAPI, client: TestClient, github: GitHub) -> None:
    started = client.get("/api/auth/github", follow_redirects=False)
    back = httpx.get(started.headers["location"], follow_redirects=False).headers["location"]
    forged = back.replace(query_of(back)["state"], "forged")
    assert query_of(callback(client, forged).headers["location"])["error"] == "invalid_state"
    with TestClient(app, raise_server_exceptions=False) as other_browser:
        assert query_of(callback(other_browser, back).headers["location"])["error"] == "invalid_state"
    assert github.token_requests == []


def test_a_code_github_refuses_is_a_provider_error(client: TestClient, github: GitHub) -> None:
    started = client.get("/api/auth/github", follow_redirects=False)
    state = query_of(started.headers["location"])["state"]
    answer = client.get("/api/auth/github/callback", params={"code": "made-up", "state": state}, follow_redirects=False)
    assert query_of(answer.headers["location"])["error"] == "provider_error"


def test_without_settings_github_is_not_offered(tmp_path: Path, database_url: str, database: Database) -> None:
    plain = create_app(Settings(data_dir=tmp_path / "data", database_url=database_url))
    with TestClient(plain, raise_server_exceptions=False) as client:
        assert client.get("/api/auth/config").json()["github"] is False
        answer = client.get("/api/auth/github", follow_redirects=False)
        assert answer.status_code == 404 and answer.json()["code"] == "github_not_configured"
        callback_answer = client.get("/api/auth/github/callback?code=x&state=y", follow_redirects=False)
        assert query_of(callback_answer.headers["location"])["error"] == "github_not_configured"


def test_a_person_who_left_their_org_is_told_so(client: TestClient, database: Database, github: GitHub) -> None:
    owner = register(client)
    github.emails = [{"email": "octo-member@example.com", "primary": True, "verified": True}]
    member = signed_in(client)  # an org of their own
    assert member["org"]["id"] != owner.org_id  # type: ignore[index]
    with database.transaction() as session:
        session.execute(update(User).where(User.id == member["user"]["id"]).values(org_id=None, role=None))  # type: ignore[index]
    assert refusal(client) == "no_organization"
