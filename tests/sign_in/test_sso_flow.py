"""Single sign-on through a stand-in OpenID provider on loopback: the redirect dance, the one-time code,
and the accounts it signs in or creates."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import login, register
from tests.oidc_issuer import Issuer
from tests.sign_in.conftest import (
    DOMAIN,
    at_provider,
    callback,
    completed_code,
    configure_sso,
    exchange,
    query_of,
    sign_in_through_provider,
    start,
)


@pytest.mark.both_databases  # the member, the code and its exchange are SQL
def test_first_sign_in_creates_the_member_and_the_second_signs_in_the_same(client: TestClient, issuer: Issuer) -> None:
    owner = register(client)
    configure_sso(client, owner, issuer, defaultRole="VIEWER")
    code = completed_code(sign_in_through_provider(client, f"alice@{DOMAIN}"))
    answer = exchange(client, code)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["user"]["email"] == f"alice@{DOMAIN}" and body["user"]["role"] == "VIEWER"
    assert body["org"]["id"] == owner.org_id
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json()["name"] == "Alice"

    again = exchange(client, completed_code(sign_in_through_provider(client, f"alice@{DOMAIN}"))).json()
    assert again["user"]["id"] == body["user"]["id"]

    members = client.get("/api/org/members", headers=owner.headers).json()
    assert {m["email"]: m["sso"] for m in members} == {owner.email: False, f"alice@{DOMAIN}": True}
    actions = [e["action"] for e in client.get("/api/audit", headers=owner.headers).json()]
    assert actions.count("team.member.joined_sso") == 1 and actions.count("auth.sso_login") == 2


def test_the_redirect_carries_pkce_state_and_nonce_and_a_browser_bound_cookie(
    client: TestClient, issuer: Issuer
) -> None:
    configure_sso(client, register(client), issuer)
    started = start(client, f"Alice@{DOMAIN.upper()}")
    assert started.status_code == 302
    query = query_of(started.headers["location"])
    assert started.headers["location"].startswith(f"{issuer.url}/authorize?")
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43 and query["state"] != query["nonce"]
    assert query["redirect_uri"] == "http://testserver/api/auth/sso/callback"
    cookie = started.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/api/auth/sso/callback" in cookie
    assert query["state"] not in cookie and query["nonce"] not in cookie  # sealed, not readable


def test_an_unclaimed_domain_has_no_single_sign_on(client: TestClient, issuer: Issuer) -> None:
    configure_sso(client, register(client), issuer)
    for email in ("bob@other.example.com", "no-at-sign", f"bob@{DOMAIN}.evil", "@", f"x@{DOMAIN}@x"):
        answer = start(client, email)
        assert answer.status_code == 404 and answer.json()["code"] == "sso_not_configured", email


def test_a_code_works_once(client: TestClient, issuer: Issuer) -> None:
    configure_sso(client, register(client), issuer)
    code = completed_code(sign_in_through_provider(client, f"alice@{DOMAIN}"))
    assert exchange(client, code).status_code == 200
    replay = exchange(client, code)
    assert replay.status_code == 400 and replay.json()["code"] == "invalid_sign_in_code"
    assert exchange(client, "made-up").json()["code"] == "invalid_sign_in_code"


def test_an_existing_member_is_linked_by_the_verified_email(
    client: TestClient, database: Database, issuer: Issuer
) -> None:
    owner = register(client, email=f"owner@{DOMAIN}")
    configure_sso(client, owner, issuer)
    issuer.person = {"sub": "o-1", "email": f"OWNER@{DOMAIN}", "email_verified": True}
    body = exchange(client, completed_code(sign_in_through_provider(client, f"owner@{DOMAIN}"))).json()
    assert body["user"]["id"] == owner.user_id and body["user"]["role"] == "OWNER"
    assert login(client, owner.email).user["id"] == owner.user_id  # the password still works (not enforced)


@pytest.mark.both_databases  # the unique email decides between two first sign-ins
def test_two_first_sign_ins_at_once_make_one_member(app: FastAPI, client: TestClient, issuer: Issuer) -> None:
    owner = register(client)
    configure_sso(client, owner, issuer)
    # The provider's keys fetched first: each test client runs an event loop of its own, and a key fetch is
    # serialized per loop (a server process has one).
    issuer.person = {"sub": "warm", "email": f"bob@{DOMAIN}", "email_verified": True}
    completed_code(sign_in_through_provider(client, f"bob@{DOMAIN}"))
    issuer.person = {"sub": "a", "email": f"alice@{DOMAIN}", "email_verified": True}
    browsers = [TestClient(app, raise_server_exceptions=False) for _ in range(2)]
    backs = [at_provider(start(browser, f"alice@{DOMAIN}").headers["location"]) for browser in browsers]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(callback, browsers, backs))
    for answer in answers:
        assert answer.status_code == 302, answer.text
        assert completed_code(answer)
    members = client.get("/api/org/members", headers=owner.headers).json()
    assert sorted(m["email"] for m in members) == sorted([owner.email, f"alice@{DOMAIN}", f"bob@{DOMAIN}"])


def test_an_internationalised_domain_is_one_domain(client: TestClient, issuer: Issuer) -> None:
    configure_sso(client, register(client), issuer, domains=["bücher.example.com"])
    issuer.person = {"sub": "b", "email": "anna@xn--bcher-kva.example.com", "email_verified": True}
    for typed in ("anna@BÜCHER.example.com", "anna@xn--bcher-kva.example.com", "anna@bu\u0308cher.example.com"):
        assert start(client, typed).status_code == 302, typed
    assert (
        exchange(client, completed_code(sign_in_through_provider(client, "anna@bücher.example.com"))).status_code == 200
    )
