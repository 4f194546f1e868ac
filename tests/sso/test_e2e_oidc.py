"""Single sign-on end to end: a real `provenant serve` and a certified OpenID Provider (oidc-provider), through
the whole redirect dance a browser makes, over real HTTP. One provider and one server per module (and database):
each test makes an org of its own, with an email domain of its own.
"""

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.factories import PASSWORD, Account, audit_entries, bearer, register, unique
from tests.servers import LiveServer, serve
from tests.shared_servers import (  # noqa: F401 - fixtures, found by pytest
    dialect_fixture,
    shared_database_url_fixture,
)
from tests.sso.openid_provider import CALLBACK_PATH, OpenIDProvider, running_provider, sign_in, to_callback

pytestmark = pytest.mark.both_databases


@pytest.fixture(scope="module")
def server(shared_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    allowed = {"PROVENANT_ALLOWED_ISSUER_HOSTS": "127.0.0.1"}
    with serve(tmp_path_factory.mktemp("sso-server"), shared_database_url, env=allowed) as live:
        yield live


@pytest.fixture(scope="module")
def provider(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIDProvider]:
    with running_provider(Path(tmp_path_factory.mktemp("provider")), [server.url + CALLBACK_PATH]) as running:
        yield running


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """A person's browser: keeps its cookies, follows nothing on its own."""
    with httpx.Client(timeout=30) as client:
        yield client


def configure_sso(
    http: httpx.Client, provider: OpenIDProvider, owner: Account, domain: str, **fields: Any
) -> dict[str, Any]:
    body = {
        "issuer": provider.issuer,
        "clientId": provider.client_id,
        "clientSecret": provider.client_secret,
        "domains": [domain],
        "defaultRole": "MEMBER",
        "enforce": False,
    } | fields
    response = http.put("/api/org/sso", json=body, headers=owner.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def org_with_sso(http: httpx.Client, provider: OpenIDProvider, **fields: Any) -> tuple[Account, str]:
    """A new org whose provider signs in the people of a domain of its own: its OWNER, and the domain."""
    owner = register(http)
    domain = f"{unique('acme')}.example.com"
    configure_sso(http, provider, owner, domain, **fields)
    return owner, domain


def completed(answer: httpx.Response) -> dict[str, str]:
    """The query of ``/sso-complete?…`` that the server's callback redirected to (``code`` or ``error``)."""
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    parts = urlsplit(location)
    assert parts.path == "/sso-complete" and not parts.netloc, location
    assert not re.search(r"eyJ[\w-]+\.", location), "a JWT in a URL"
    return {name: values[0] for name, values in parse_qs(parts.query).items()}


def exchange(http: httpx.Client, code: str) -> httpx.Response:
    return http.post("/api/auth/sso/exchange", json={"code": code})


def signed_in(http: httpx.Client, answer: httpx.Response) -> dict[str, Any]:
    """The session the dance ended with: the one-time code exchanged, and the token tried on /api/auth/me."""
    query = completed(answer)
    assert "code" in query, query
    response = exchange(http, query["code"])
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert http.get("/api/auth/me", headers=bearer(body["token"])).status_code == 200
    return body


def members(http: httpx.Client, owner: Account) -> dict[str, dict[str, Any]]:
    response = http.get("/api/org/members", headers=owner.headers)
    assert response.status_code == 200, response.text
    return {member["email"]: member for member in response.json()}


def test_the_first_sign_in_creates_the_member_and_the_next_ones_sign_in_the_same(
    server: LiveServer, provider: OpenIDProvider, http: httpx.Client, browser: httpx.Client
) -> None:
    owner, domain = org_with_sso(http, provider, defaultRole="VIEWER")
    email = f"grace.hopper@{domain}"
    assert http.get("/api/auth/config").json()["sso"] is True

    first = signed_in(http, sign_in(browser, server.url, email))
    assert first["user"]["email"] == email and first["user"]["name"] == "Grace Hopper"
    assert first["user"]["role"] == "VIEWER" and first["org"]["id"] == owner.org_id
    assert members(http, owner)[email]["sso"] is True
    assert members(http, owner)[owner.email]["sso"] is False
    jwks_fetches = provider.fetches("/jwks")

    # The same browser: the provider remembers the person and sends them straight back.
    again = signed_in(http, sign_in(browser, server.url, email))
    # Another browser, where the person signs in at the provider again; the email typed in another case.
    with httpx.Client(timeout=30) as other_browser:
        elsewhere = signed_in(http, sign_in(other_browser, server.url, email.upper()))
    assert again["user"]["id"] == elsewhere["user"]["id"] == first["user"]["id"]
    assert provider.fetches("/jwks") == jwks_fetches, "the provider's keys are cached"

    assert len(audit_entries(http, owner.headers, action="team.member.joined_sso")) == 1
    assert len(audit_entries(http, owner.headers, action="auth.sso_login")) == 3


def test_the_server_asks_for_the_code_flow_with_pkce_state_and_nonce(
    server: LiveServer, provider: OpenIDProvider, http: httpx.Client, browser: httpx.Client
) -> None:
    _, domain = org_with_sso(http, provider)
    answer = browser.get(f"{server.url}/api/auth/sso/start", params={"email": f"ada@{domain}"})
    assert answer.status_code == 302
    authorize = urlsplit(answer.headers["location"])
    assert f"{authorize.scheme}://{authorize.netloc}" == provider.issuer
    query = {name: values[0] for name, values in parse_qs(authorize.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == provider.client_id
    assert query["redirect_uri"] == server.url + CALLBACK_PATH
    assert set(query["scope"].split()) >= {"openid", "email"}
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 22 and len(query["nonce"]) >= 22  # 128 bits or more each
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert query["state"] not in cookie and query["nonce"] not in cookie  # sealed, not readable

    unknown = http.get("/api/auth/sso/start", params={"email": f"ada@{unique('nobody')}.example.com"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "sso_not_configured"


def test_an_enforced_domain_refuses_passwords_and_resets_and_its_owner_signs_in_through_sso(
    server: LiveServer, provider: OpenIDProvider, http: httpx.Client, browser: httpx.Client
) -> None:
    domain = f"{unique('acme')}.example.com"
    owner = register(http, email=f"owner@{domain}")
    configure_sso(http, provider, owner, domain, enforce=True)

    for path, body in [
        ("/api/auth/login", {"email": owner.email, "password": PASSWORD}),
        ("/api/auth/login", {"email": owner.email.upper(), "password": "not the password"}),
        ("/api/auth/forgot-password", {"email": owner.email}),
    ]:
        refused = http.post(path, json=body)
        assert refused.status_code == 403 and refused.json()["code"] == "sso_required", (path, refused.text)

    # The existing account (a verified email of the claimed domain) is linked, and keeps its role.
    session = signed_in(http, sign_in(browser, server.url, owner.email))
    assert session["user"]["id"] == owner.user_id and session["user"]["role"] == "OWNER"

    other = register(http)  # an email of no enforced domain still signs in with its password
    assert http.post("/api/auth/login", json={"email": other.email, "password": PASSWORD}).status_code == 200


def test_a_callback_with_a_forged_state_or_in_another_browser_signs_nobody_in(
    server: LiveServer, provider: OpenIDProvider, http: httpx.Client, browser: httpx.Client
) -> None:
    owner, domain = org_with_sso(http, provider)
    email = f"mallory@{domain}"
    callback = to_callback(browser, server.url, email)

    # The provider's answer, lured into another browser (the attacker's code in the victim's, or the reverse).
    with httpx.Client(timeout=30) as other_browser:
        assert completed(other_browser.get(callback)) == {"error": "invalid_state"}
    # The browser that started it finishes it: the refusal above was about the browser.
    assert signed_in(http, browser.get(callback))["user"]["email"] == email

    callback = to_callback(browser, server.url, email)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    forged = callback.replace(f"state={state}", "state=" + "A" * len(state))
    assert completed(browser.get(forged)) == {"error": "invalid_state"}
    assert completed(browser.get(callback.replace(f"&state={state}", "").replace(f"state={state}&", ""))) == {
        "error": "invalid_state"
    }
    assert email in members(http, owner)  # only the one honest sign-in


def test_a_one_time_code_works_once_even_for_thirty_exchanges_at_once(
    server: LiveServer, provider: OpenIDProvider, http: httpx.Client, browser: httpx.Client
) -> None:
    _, domain = org_with_sso(http, provider)
    code = completed(sign_in(browser, server.url, f"eve@{domain}"))["code"]
    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(lambda _: exchange(http, code), range(30)))
    assert sorted(answer.status_code for answer in answers) == [200] + [400] * 29
    assert {answer.json()["code"] for answer in answers if answer.status_code == 400} == {"invalid_sign_in_code"}
    replayed = exchange(http, code)
    assert replayed.status_code == 400 and replayed.json()["code"] == "invalid_sign_in_code"
    for hostile in ["", "x" * 5000, "../../etc/passwd", "\u0000", "é" * 100]:
        answer = http.post("/api/auth/sso/exchange", json={"code": hostile})
        assert answer.status_code in (400, 422), (hostile, answer.text)
        assert answer.json()["code"] in ("invalid_sign_in_code", "validation_error")


@pytest.mark.parametrize("local_part", ["unverified", "unstated"])
def test_an_email_the_provider_does_not_call_verified_signs_nobody_in(
    server: LiveServer, provider: OpenIDProvider, http: httpx.Client, browser: httpx.Client, local_part: str
) -> None:
    owner, domain = org_with_sso(http, provider)
    email = f"{local_part}-{unique('person')}@{domain}"
    assert completed(sign_in(browser, server.url, email)) == {"error": "email_not_verified"}
    assert email not in members(http, owner)


def test_an_unverified_email_does_not_take_over_an_existing_account(
    server: LiveServer, provider: OpenIDProvider, http: httpx.Client, browser: httpx.Client
) -> None:
    domain = f"{unique('acme')}.example.com"
    owner = register(http, email=f"unverified-owner@{domain}")
    configure_sso(http, provider, owner, domain)
    assert completed(sign_in(browser, server.url, owner.email)) == {"error": "email_not_verified"}
    assert http.post("/api/auth/login", json={"email": owner.email, "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize("local_part", ["wrong-nonce", "wrong-aud", "forged"])
def test_an_id_token_with_a_wrong_nonce_audience_or_signature_signs_nobody_in(
    server: LiveServer, provider: OpenIDProvider, http: httpx.Client, browser: httpx.Client, local_part: str
) -> None:
    owner, domain = org_with_sso(http, provider)
    email = f"{local_part}-{unique('person')}@{domain}"
    assert completed(sign_in(browser, server.url, email)) == {"error": "invalid_id_token"}
    assert email not in members(http, owner)
    assert "eyJ" not in server.log(), "an ID token in the server's log"


def test_thirty_first_sign_ins_of_one_person_at_once_make_one_member(
    server: LiveServer, provider: OpenIDProvider, http: httpx.Client
) -> None:
    owner, domain = org_with_sso(http, provider)
    email = f"hedy.lamarr@{domain}"
    browsers = [httpx.Client(timeout=30) for _ in range(30)]
    try:
        with ThreadPoolExecutor(6) as pool:
            callbacks = list(pool.map(lambda browser: to_callback(browser, server.url, email), browsers))
        with ThreadPoolExecutor(30) as pool:
            answers = list(pool.map(lambda pair: pair[0].get(pair[1]), zip(browsers, callbacks, strict=True)))
    finally:
        for browser in browsers:
            browser.close()
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [302] * 30, str(statuses)
    outcomes = [completed(answer) for answer in answers]
    codes = [outcome["code"] for outcome in outcomes if "code" in outcome]
    # Every one ends on the dashboard's page. One that lost the race to a busy database is told to try again, and
    # on a loaded machine the provider may answer one of 30 token requests too late; none fails otherwise.
    refused = [outcome for outcome in outcomes if "code" not in outcome]
    assert len(codes) >= 20 and all(outcome["error"] in ("try_again", "provider_unreachable") for outcome in refused)
    user_ids = {exchange(http, code).json()["user"]["id"] for code in codes}
    assert len(user_ids) == 1
    assert [member["email"] for member in members(http, owner).values()].count(email) == 1
    assert len(audit_entries(http, owner.headers, action="team.member.joined_sso")) == 1


def test_a_member_removed_from_the_org_comes_back_through_sso_with_the_default_role(
    server: LiveServer, provider: OpenIDProvider, http: httpx.Client, browser: httpx.Client
) -> None:
    owner, domain = org_with_sso(http, provider)
    email = f"mary.jackson@{domain}"
    first = signed_in(http, sign_in(browser, server.url, email))
    promoted = http.patch(f"/api/org/members/{first['user']['id']}/role", json={"role": "ADMIN"}, headers=owner.headers)
    assert promoted.status_code == 200, promoted.text
    assert http.delete(f"/api/org/members/{first['user']['id']}", headers=owner.headers).status_code == 200
    assert http.get("/api/auth/me", headers=bearer(first["token"])).status_code == 401

    back = signed_in(http, sign_in(browser, server.url, email))
    assert back["user"]["id"] == first["user"]["id"] and back["user"]["role"] == "MEMBER"
    assert len(audit_entries(http, owner.headers, action="team.member.joined_sso")) == 2
