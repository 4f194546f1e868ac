"""Every way a callback or a code that should not sign anyone in is refused: each ends at /sso-complete with a
reason, never a session, never a JSON 500."""

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pytest
import time_machine
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import register
from tests.oidc_issuer import CLIENT_SECRET, Issuer, make_key
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


def refusal(response: object) -> str:
    location = response.headers["location"]  # type: ignore[attr-defined]
    assert response.status_code == 302 and location.startswith("/sso-complete?error="), location  # type: ignore[attr-defined]
    assert "code=" not in location
    return query_of(location)["error"]


def with_state(url: str, state: str) -> str:
    parts = urlsplit(url)
    query = query_of(url) | {"state": state}
    return f"{parts.path}?{urlencode(query)}"


def test_a_forged_state_signs_nobody_in(client: TestClient, issuer: Issuer) -> None:
    configure_sso(client, register(client), issuer)
    back = at_provider(start(client, f"alice@{DOMAIN}").headers["location"])
    assert refusal(callback(client, with_state(back, "forged"))) == "invalid_state"
    assert refusal(callback(client, with_state(back, ""))) == "invalid_state"
    assert refusal(callback(client, with_state(back, "ä" * 5000))) == "invalid_state"
    assert issuer.token_requests == []  # the provider's code was never spent


def test_a_callback_in_another_browser_signs_nobody_in(app: object, client: TestClient, issuer: Issuer) -> None:
    """A victim lured to an attacker's callback URL (login CSRF), or an attacker replaying a victim's."""
    configure_sso(client, register(client), issuer)
    back = at_provider(start(client, f"alice@{DOMAIN}").headers["location"])
    with TestClient(app, raise_server_exceptions=False) as other_browser:  # type: ignore[arg-type]
        assert refusal(callback(other_browser, back)) == "invalid_state"
    assert issuer.token_requests == []


def test_a_callback_works_once(client: TestClient, issuer: Issuer) -> None:
    configure_sso(client, register(client), issuer)
    started = start(client, f"alice@{DOMAIN}")
    cookie = started.cookies.get("provenant_sso")
    back = at_provider(started.headers["location"])
    completed_code(callback(client, back))
    assert refusal(callback(client, back)) == "invalid_state"  # the cookie went with the first
    client.cookies.set("provenant_sso", cookie, path="/api/auth/sso/callback")  # kept by the attacker
    assert refusal(callback(client, back)) == "provider_unreachable"  # the provider's code is spent


def test_a_state_cookie_older_than_ten_minutes_is_refused(client: TestClient, issuer: Issuer) -> None:
    configure_sso(client, register(client), issuer)
    started = start(client, f"alice@{DOMAIN}")
    back = at_provider(started.headers["location"])
    with time_machine.travel(timedelta(minutes=11), tick=True):
        assert refusal(callback(client, back)) == "invalid_state"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"nonce": "another"}, "invalid_id_token"),
        ({"nonce": None}, "invalid_id_token"),
        ({"aud": "another-client"}, "invalid_id_token"),
        ({"aud": ["provenant-client", "another"]}, "invalid_id_token"),  # several audiences, no azp
        ({"azp": "another-client"}, "invalid_id_token"),
        ({"iss": "https://issuer.example.com"}, "invalid_id_token"),
        ({"exp": 1_000_000_000}, "invalid_id_token"),
        ({"iat": None}, "invalid_id_token"),
        ({"sub": None}, "invalid_id_token"),
        ({"email_verified": False}, "email_not_verified"),
        ({"email_verified": "true"}, "email_not_verified"),
        ({"email_verified": None}, "email_not_verified"),
        ({"email": None}, "email_not_verified"),
        ({"email": "ceo@another.example.com"}, "email_domain_mismatch"),
        ({"email": f"ceo@{DOMAIN}.evil.example.com"}, "email_domain_mismatch"),
    ],
)
def test_an_id_token_that_does_not_hold_signs_nobody_in(
    client: TestClient, issuer: Issuer, overrides: dict[str, object], reason: str
) -> None:
    owner = register(client)
    configure_sso(client, owner, issuer)
    issuer.id_token_overrides = overrides
    assert refusal(sign_in_through_provider(client, f"alice@{DOMAIN}")) == reason
    members = client.get("/api/org/members", headers=owner.headers).json()
    assert [m["email"] for m in members] == [owner.email]


def test_a_token_signed_with_a_key_the_provider_does_not_publish_is_refused(client: TestClient, issuer: Issuer) -> None:
    configure_sso(client, register(client), issuer)
    rogue = make_key()
    rogue.kid = issuer.keys[0].kid  # the published key's id, another key
    sign = issuer.id_token

    def forged(client_id: str, nonce: str | None, person: dict[str, object]) -> str:
        published, issuer.keys = issuer.keys, [rogue]
        try:
            return sign(client_id, nonce, person)
        finally:
            issuer.keys = published

    issuer.id_token = forged  # type: ignore[method-assign]
    assert refusal(sign_in_through_provider(client, f"alice@{DOMAIN}")) == "invalid_id_token"


def test_key_rotation_at_the_provider_is_picked_up(client: TestClient, issuer: Issuer) -> None:
    configure_sso(client, register(client), issuer)
    assert exchange(client, completed_code(sign_in_through_provider(client, f"alice@{DOMAIN}"))).status_code == 200
    issuer.rotate()
    with time_machine.travel(timedelta(minutes=2), tick=True):  # past the once-a-minute refetch limit
        assert exchange(client, completed_code(sign_in_through_provider(client, f"alice@{DOMAIN}"))).status_code == 200


def test_a_cancelled_or_failed_sign_in_at_the_provider_says_so(client: TestClient, issuer: Issuer) -> None:
    configure_sso(client, register(client), issuer)
    state = query_of(start(client, f"alice@{DOMAIN}").headers["location"])["state"]
    denied = client.get(
        "/api/auth/sso/callback", params={"state": state, "error": "access_denied"}, follow_redirects=False
    )
    assert refusal(denied) == "cancelled"
    state = query_of(start(client, f"alice@{DOMAIN}").headers["location"])["state"]
    odd = client.get(
        "/api/auth/sso/callback",
        params={"state": state, "error": "<script>", "error_description": "x" * 3000},
        follow_redirects=False,
    )
    assert refusal(odd) == "provider_error" and "script" not in odd.headers["location"]


def test_a_configuration_removed_meanwhile_ends_the_sign_in(client: TestClient, issuer: Issuer) -> None:
    owner = register(client)
    configure_sso(client, owner, issuer)
    back = at_provider(start(client, f"alice@{DOMAIN}").headers["location"])
    assert client.delete("/api/org/sso", headers=owner.headers).status_code == 204
    assert refusal(callback(client, back)) == "sso_not_configured"


def test_a_member_of_another_org_is_not_taken_over_by_a_domain_claim(client: TestClient, issuer: Issuer) -> None:
    """An OWNER claims a domain without proving they own it: their provider must not sign in, nor move, an
    account of another org."""
    victim = register(client, email=f"victim@{DOMAIN}")
    configure_sso(client, register(client), issuer)
    issuer.person = {"sub": "v", "email": f"victim@{DOMAIN}", "email_verified": True}
    assert refusal(sign_in_through_provider(client, f"victim@{DOMAIN}")) == "account_in_another_org"
    me = client.get("/api/auth/me", headers=victim.headers).json()
    assert me["orgId"] == victim.org_id and me["role"] == "OWNER"


@pytest.mark.both_databases  # the UPDATE that spends a code is the arbiter
def test_thirty_concurrent_exchanges_of_one_code_sign_in_once(client: TestClient, issuer: Issuer) -> None:
    configure_sso(client, register(client), issuer)
    code = completed_code(sign_in_through_provider(client, f"alice@{DOMAIN}"))
    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(lambda _: exchange(client, code), range(30)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(200) == 1, statuses
    assert all(
        answer.json()["code"] in ("invalid_sign_in_code", "busy") for answer in answers if answer.status_code != 200
    )


def test_a_code_expires_after_a_minute(client: TestClient, issuer: Issuer) -> None:
    configure_sso(client, register(client), issuer)
    code = completed_code(sign_in_through_provider(client, f"alice@{DOMAIN}"))
    with time_machine.travel(timedelta(seconds=61), tick=True):
        assert exchange(client, code).json()["code"] == "invalid_sign_in_code"


def test_hostile_exchange_bodies_are_refused_plainly(client: TestClient) -> None:
    for body in ({}, {"code": ""}, {"code": "x" * 257}, {"code": 5}, {"code": None}, {"code": "é\u202e"}):
        answer = client.post("/api/auth/sso/exchange", json=body)
        assert answer.status_code in (400, 422) and answer.json()["code"] in (
            "validation_error",
            "invalid_sign_in_code",
        )


def test_no_secret_reaches_the_audit_log_the_logs_or_the_database(
    client: TestClient, database: Database, issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    owner = register(client)
    configure_sso(client, owner, issuer)
    code = completed_code(sign_in_through_provider(client, f"alice@{DOMAIN}"))
    token = exchange(client, code).json()["token"]
    audit = json.dumps(client.get("/api/audit", headers=owner.headers).json())
    with database.engine.connect() as connection:
        dump = "\n".join(
            str(row)
            for table in ("sso_configs", "sign_in_codes", "audit_log")
            for row in connection.exec_driver_sql(f"SELECT * FROM {table}")  # noqa: S608 - fixed names
        )
    for secret in (CLIENT_SECRET, code, token):
        assert secret not in audit and secret not in dump and secret not in caplog.text
