"""Turning two-factor sign-in on and off, and recovery codes: the Two-factor sign-in table of the contract."""

import base64
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
import time_machine
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import (
    PASSWORD,
    audit_entries,
    key_headers,
    login,
    mfa_token,
    persisted_bytes,
    register,
    totp_code,
    turn_on_two_factor,
)
from tests.two_factor import START

RECOVERY_CODE = re.compile(r"[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}")


def test_setup_answers_a_secret_its_uri_and_a_qr_code_and_is_not_on_until_confirmed(client: TestClient) -> None:
    owner = register(client)
    response = client.post("/api/auth/2fa/totp", headers=owner.headers)

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"secret", "otpauthUri", "qrCode"}
    assert len(base64.b32decode(body["secret"])) == 20  # 160 bits (RFC 4226)
    uri = urlsplit(body["otpauthUri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == f"/Provenant:{owner.email}"
    query = {name: values[0] for name, values in parse_qs(uri.query).items()}
    assert query["secret"] == body["secret"] and query["issuer"] == "Provenant"
    assert query.get("algorithm", "SHA1") == "SHA1" and query.get("digits", "6") == "6"
    assert query.get("period", "30") == "30"
    assert body["qrCode"].startswith("data:image/svg+xml")
    assert "script" not in unquote(body["qrCode"]).lower()
    assert response.headers["cache-control"] == "no-store"

    me = client.get("/api/auth/me", headers=owner.headers).json()
    assert me["twoFactor"] is False
    assert "token" in client.post("/api/auth/login", json={"email": owner.email, "password": PASSWORD}).json()


def test_a_wrong_code_does_not_confirm_and_the_current_one_does(client: TestClient) -> None:
    with time_machine.travel(START, tick=False):
        owner = register(client)
        secret = client.post("/api/auth/2fa/totp", headers=owner.headers).json()["secret"]
        for wrong in ("000000", totp_code(secret, steps=2), totp_code(pyotp.random_base32()), "12345", "abcdef"):
            if wrong == totp_code(secret):
                continue
            refused = client.post("/api/auth/2fa/totp/confirm", json={"code": wrong}, headers=owner.headers)
            assert refused.status_code == 400 and refused.json()["code"] == "invalid_code", refused.text
        assert client.get("/api/auth/me", headers=owner.headers).json()["twoFactor"] is False

        confirmed = client.post("/api/auth/2fa/totp/confirm", json={"code": totp_code(secret)}, headers=owner.headers)

        assert confirmed.status_code == 200, confirmed.text
        codes = confirmed.json()["recoveryCodes"]
        assert len(codes) == 10 and len(set(codes)) == 10
        assert all(RECOVERY_CODE.fullmatch(code) for code in codes), codes
        assert client.get("/api/auth/me", headers=owner.headers).json()["twoFactor"] is True
        [entry] = audit_entries(client, owner.headers, action="auth.2fa_enabled")
        assert entry["user"]["id"] == owner.user_id


def test_a_code_with_spaces_confirms(client: TestClient) -> None:
    owner = register(client)
    secret = client.post("/api/auth/2fa/totp", headers=owner.headers).json()["secret"]
    code = totp_code(secret)
    confirmed = client.post(
        "/api/auth/2fa/totp/confirm", json={"code": f" {code[:3]} {code[3:]} "}, headers=owner.headers
    )
    assert confirmed.status_code == 200, confirmed.text


def test_setting_up_again_replaces_an_unconfirmed_secret(client: TestClient) -> None:
    owner = register(client)
    first = client.post("/api/auth/2fa/totp", headers=owner.headers).json()["secret"]
    second = client.post("/api/auth/2fa/totp", headers=owner.headers).json()["secret"]
    assert first != second
    stale = client.post("/api/auth/2fa/totp/confirm", json={"code": totp_code(first)}, headers=owner.headers)
    assert stale.status_code == 400 and stale.json()["code"] == "invalid_code"
    fresh = client.post("/api/auth/2fa/totp/confirm", json={"code": totp_code(second)}, headers=owner.headers)
    assert fresh.status_code == 200


def test_once_on_neither_setup_nor_confirmation_can_replace_the_app(client: TestClient) -> None:
    """A stolen session must not move someone's second factor to the thief's phone: off (with the password) first."""
    owner = register(client)
    turn_on_two_factor(client, owner)
    again = client.post("/api/auth/2fa/totp", headers=owner.headers)
    assert again.status_code == 409 and again.json()["code"] == "two_factor_already_enabled"
    confirm = client.post("/api/auth/2fa/totp/confirm", json={"code": "123456"}, headers=owner.headers)
    assert confirm.status_code == 409 and confirm.json()["code"] == "two_factor_already_enabled"


def test_confirming_without_a_setup_is_a_conflict(client: TestClient) -> None:
    owner = register(client)
    response = client.post("/api/auth/2fa/totp/confirm", json={"code": "123456"}, headers=owner.headers)
    assert response.status_code == 409 and response.json()["code"] == "two_factor_not_set_up"


@pytest.mark.both_databases
def test_turning_off_needs_the_password(client: TestClient) -> None:
    owner = register(client)
    turn_on_two_factor(client, owner)

    wrong = client.request("DELETE", "/api/auth/2fa", json={"password": "not it"}, headers=owner.headers)
    assert wrong.status_code == 403 and wrong.json()["code"] == "invalid_credentials"
    assert client.get("/api/auth/me", headers=owner.headers).json()["twoFactor"] is True
    failed = audit_entries(client, owner.headers, action="auth.login_failed")
    assert [entry["after"]["via"] for entry in failed] == ["two-factor-off"]

    off = client.request("DELETE", "/api/auth/2fa", json={"password": PASSWORD}, headers=owner.headers)
    assert off.status_code == 204
    assert client.get("/api/auth/me", headers=owner.headers).json()["twoFactor"] is False
    assert login(client, owner.email).token  # the password alone signs in again
    assert len(audit_entries(client, owner.headers, action="auth.2fa_disabled")) == 1
    # And it can be set up afresh, with a new secret.
    assert turn_on_two_factor(client, owner).secret


def test_a_missing_password_is_a_validation_error(client: TestClient) -> None:
    owner = register(client)
    for path, method in (("/api/auth/2fa", "DELETE"), ("/api/auth/2fa/recovery-codes", "POST")):
        response = client.request(method, path, json={}, headers=owner.headers)
        assert response.status_code == 422 and response.json()["details"][0]["field"] == "password"


@pytest.mark.both_databases
def test_new_recovery_codes_need_the_password_and_end_the_old_set(client: TestClient) -> None:
    with time_machine.travel(START, tick=False):
        owner = register(client)
        old = turn_on_two_factor(client, owner).recovery_codes

        wrong = client.post("/api/auth/2fa/recovery-codes", json={"password": "nope"}, headers=owner.headers)
        assert wrong.status_code == 403 and wrong.json()["code"] == "invalid_credentials"

        response = client.post("/api/auth/2fa/recovery-codes", json={"password": PASSWORD}, headers=owner.headers)
        assert response.status_code == 200, response.text
        new = response.json()["recoveryCodes"]
        assert len(new) == 10 and not set(new) & set(old)

        refused = client.post("/api/auth/login/2fa", json={"mfaToken": mfa_token(client, owner.email), "code": old[0]})
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_code"
        accepted = client.post("/api/auth/login/2fa", json={"mfaToken": mfa_token(client, owner.email), "code": new[0]})
        assert accepted.status_code == 200, accepted.text
        assert len(audit_entries(client, owner.headers, action="auth.2fa_recovery_codes_regenerated")) == 1


def test_recovery_codes_cannot_be_made_while_two_factor_is_off(client: TestClient) -> None:
    owner = register(client)
    response = client.post("/api/auth/2fa/recovery-codes", json={"password": PASSWORD}, headers=owner.headers)
    assert response.status_code == 409 and response.json()["code"] == "two_factor_not_enabled"


def test_an_api_key_cannot_manage_two_factor(client: TestClient) -> None:
    owner = register(client)
    key = key_headers(client, owner)
    for method, path, body in (
        ("POST", "/api/auth/2fa/totp", None),
        ("POST", "/api/auth/2fa/totp/confirm", {"code": "123456"}),
        ("DELETE", "/api/auth/2fa", {"password": PASSWORD}),
        ("POST", "/api/auth/2fa/recovery-codes", {"password": PASSWORD}),
    ):
        response = client.request(method, path, json=body, headers=key)
        assert response.status_code == 403 and response.json()["code"] == "forbidden", (path, response.text)


def test_without_a_token_the_routes_answer_401(client: TestClient) -> None:
    for method, path in (("POST", "/api/auth/2fa/totp"), ("DELETE", "/api/auth/2fa")):
        assert client.request(method, path, json={"password": "x"}).status_code == 401


def test_me_with_a_key_says_whether_its_creator_has_two_factor_on(client: TestClient) -> None:
    owner = register(client)
    key = key_headers(client, owner)
    assert client.get("/api/auth/me", headers=key).json()["twoFactor"] is False
    turn_on_two_factor(client, owner)
    me = client.get("/api/auth/me", headers=key).json()
    assert me["twoFactor"] is True and me["twoFactorRequired"] is False


@pytest.mark.both_databases
def test_the_seed_and_the_recovery_codes_are_not_stored_in_plaintext(client: TestClient, database: Database) -> None:
    owner = register(client)
    two_factor = turn_on_two_factor(client, owner)
    stored = persisted_bytes(database)
    raw_seed = base64.b32decode(two_factor.secret)
    for secret in (two_factor.secret, two_factor.secret.lower(), raw_seed.hex()):
        assert secret.encode() not in stored
    assert raw_seed not in stored
    for code in two_factor.recovery_codes:
        assert code.encode() not in stored and code.replace("-", "").encode() not in stored
    # Nor in the audit log, which the org's admins read.
    log = str(client.get("/api/audit", headers=owner.headers).json())
    assert two_factor.secret not in log and not any(code in log for code in two_factor.recovery_codes)


def test_a_member_list_says_who_has_two_factor_on(client: TestClient, database: Database) -> None:
    owner = register(client)
    turn_on_two_factor(client, owner)
    members = client.get("/api/org/members", headers=owner.headers).json()
    assert [(member["id"], member["twoFactor"]) for member in members] == [(owner.user_id, True)]


def test_hostile_codes_are_clear_4xx(client: TestClient) -> None:
    owner = register(client)
    client.post("/api/auth/2fa/totp", headers=owner.headers)
    for body in ({"code": "1" * 65}, {"code": ""}, {"code": 123456}, {"code": None}, {}, {"code": "١٢٣٤٥٦"}):
        response = client.post("/api/auth/2fa/totp/confirm", json=body, headers=owner.headers)
        assert response.status_code in (400, 422), (body, response.text)
        assert response.json()["code"] in ("invalid_code", "validation_error")
