"""Sign in with GitHub end to end: a real `provenant serve` pointed at a GitHub stand-in laid out as GitHub
Enterprise Server (tests/github_standin.py), through the browser's redirects, over real HTTP. One stand-in and
one server per module; each test's GitHub user and email are its own.
"""

import itertools
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.factories import register, unique
from tests.github_standin import CLIENT_ID, GitHub, email, running_github
from tests.oidc_issuer import running_issuer
from tests.servers import LiveServer, serve
from tests.shared_servers import (  # noqa: F401 - fixtures, found by pytest
    dialect_fixture,
    shared_database_url_fixture,
)
from tests.sso.test_e2e_oidc import completed, exchange, signed_in

CALLBACK_PATH = "/api/auth/github/callback"
_ids = itertools.count(9_100_000)


@pytest.fixture(scope="module")
def github() -> Iterator[GitHub]:
    with running_github() as running:
        yield running


@pytest.fixture(scope="module")
def server(github: GitHub, shared_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # Loopback issuers allowed: a test enforces single sign-on for a domain (with tests/oidc_issuer.py's issuer).
    env = {"PROVENANT_ALLOWED_ISSUER_HOSTS": "127.0.0.1", **github.server_env()}
    with serve(tmp_path_factory.mktemp("github-server"), shared_database_url, env=env) as live:
        yield live


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def person(*emails: dict[str, Any], name: str = "Margaret Hamilton") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A GitHub user of their own (GitHub's /user) and their emails (/user/emails)."""
    return {"id": next(_ids), "login": unique("mh"), "name": name}, list(emails)


def to_callback(browser: httpx.Client, server: LiveServer) -> str:
    """Sign in with GitHub up to GitHub's answer: the callback URL it sends the browser to, not yet followed."""
    answer = browser.get(f"{server.url}/api/auth/github")
    assert answer.status_code == 302, answer.text
    answer = browser.get(answer.headers["location"])  # GitHub's authorize page, already authorized
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(server.url + CALLBACK_PATH), location
    return location


def sign_in_as(
    github: GitHub, who: tuple[dict[str, Any], list[dict[str, Any]]], browser: httpx.Client, server: LiveServer
) -> httpx.Response:
    github.user, github.emails = who
    return browser.get(to_callback(browser, server))


def test_the_first_sign_in_makes_an_organization_and_the_next_sign_in_the_same_person(
    server: LiveServer, github: GitHub, http: httpx.Client, browser: httpx.Client
) -> None:
    assert http.get("/api/auth/config").json()["github"] is True
    address = f"{unique('margaret')}@example.com"
    user, _ = who = person(email(f"{unique('old')}@example.com", verified=True), email(address, primary=True))

    first = signed_in(http, sign_in_as(github, who, browser, server))
    assert first["user"]["email"] == address and first["user"]["role"] == "OWNER"
    assert first["user"]["name"] == "Margaret Hamilton"
    authorize = github.asked("/login/oauth/authorize")[-1]
    assert authorize["client_id"] == CLIENT_ID and "user:email" in authorize["scope"]
    assert authorize["redirect_uri"] == server.url + CALLBACK_PATH
    assert len(authorize["state"]) >= 22 and authorize["code_challenge_method"] == "S256"

    # Linked by GitHub's user id: a new primary email at GitHub still signs in the same person.
    with httpx.Client(timeout=30) as other_browser:
        moved = (user, [email(f"{unique('new')}@example.com", primary=True)])
        again = signed_in(http, sign_in_as(github, moved, other_browser, server))
    assert again["user"]["id"] == first["user"]["id"] and again["org"]["id"] == first["org"]["id"]


def test_an_existing_account_is_linked_by_its_verified_primary_email(
    server: LiveServer, github: GitHub, http: httpx.Client, browser: httpx.Client
) -> None:
    owner = register(http)
    session = signed_in(http, sign_in_as(github, person(email(owner.email, primary=True)), browser, server))
    assert session["user"]["id"] == owner.user_id and session["org"]["id"] == owner.org_id


@pytest.mark.parametrize(
    "emails",
    [
        [email("placeholder", primary=True, verified=False)],  # the primary one unverified
        [email("placeholder", verified=True), email("other", primary=True, verified=False)],  # verified, not primary
        [],  # none at all
    ],
    ids=["unverified-primary", "verified-not-primary", "no-email"],
)
def test_a_github_account_without_a_primary_verified_email_signs_nobody_in(
    server: LiveServer, github: GitHub, http: httpx.Client, browser: httpx.Client, emails: list[dict[str, Any]]
) -> None:
    owner = register(http)  # the unverified address is an existing account's: it must not be taken over
    for entry in emails:
        entry["email"] = owner.email if entry["email"] == "placeholder" else f"{unique('x')}@example.com"
    answer = sign_in_as(github, person(*emails), browser, server)
    assert completed(answer) == {"error": "github_email_unverified"}


def test_a_forged_state_or_a_callback_in_another_browser_signs_nobody_in(
    server: LiveServer, github: GitHub, http: httpx.Client, browser: httpx.Client
) -> None:
    github.user, github.emails = person(email(f"{unique('eve')}@example.com", primary=True))
    callback = to_callback(browser, server)
    with httpx.Client(timeout=30) as other_browser:
        assert completed(other_browser.get(callback)) == {"error": "invalid_state"}
    state = parse_qs(urlsplit(callback).query)["state"][0]
    assert completed(browser.get(callback.replace(state, "B" * len(state)))) == {"error": "invalid_state"}

    # GitHub's answer for a spent code (200 with {"error": …}) ends the sign-in readably, never in a 500.
    spent = to_callback(browser, server)
    assert "code" in completed(browser.get(spent))
    fresh = to_callback(browser, server)  # a new state in this browser, then the spent code with it
    spent_code = parse_qs(urlsplit(spent).query)["code"][0]
    fresh_state = parse_qs(urlsplit(fresh).query)["state"][0]
    replayed = f"{server.url}{CALLBACK_PATH}?code={spent_code}&state={fresh_state}"
    assert completed(browser.get(replayed)) == {"error": "provider_error"}


def test_the_one_time_code_of_github_works_once(
    server: LiveServer, github: GitHub, http: httpx.Client, browser: httpx.Client
) -> None:
    answer = sign_in_as(github, person(email(f"{unique('lin')}@example.com", primary=True)), browser, server)
    code = completed(answer)["code"]
    assert exchange(http, code).status_code == 200
    assert exchange(http, code).json()["code"] == "invalid_sign_in_code"


def test_enforcing_sso_for_a_domain_ends_github_sign_in_for_its_accounts(
    server: LiveServer, github: GitHub, http: httpx.Client, browser: httpx.Client
) -> None:
    domain = f"{unique('acme')}.example.com"
    owner = register(http, email=f"owner@{domain}")
    who = person(email(owner.email, primary=True))
    assert signed_in(http, sign_in_as(github, who, browser, server))["user"]["id"] == owner.user_id  # linked

    with running_issuer() as issuer:
        body = {"issuer": issuer.url, "clientId": "provenant", "clientSecret": "s", "domains": [domain]}
        body["enforce"] = True
        assert http.put("/api/org/sso", json=body, headers=owner.headers).status_code == 200
    # The company's identity provider decides who of the domain gets in (and who no longer does): not GitHub.
    assert completed(sign_in_as(github, who, browser, server)) == {"error": "sso_required"}
