"""Signing in with two factors: the password answers an mfaToken, a code finishes the sign-in."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import jwt
import pytest
import time_machine
from fastapi.testclient import TestClient

from provenant.app import create_app
from provenant.config import Settings
from tests.factories import (
    PASSWORD,
    Account,
    TwoFactor,
    accept,
    assert_unauthorized,
    audit_entries,
    bearer,
    invite,
    invite_and_accept,
    link_token,
    login,
    mfa_token,
    register,
    totp_code,
    turn_on_two_factor,
)
from tests.two_factor import START


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The clock frozen at the start of a TOTP step, moved by the test."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _with_two_factor(client: TestClient) -> tuple[Account, TwoFactor]:
    owner = register(client)
    return owner, turn_on_two_factor(client, owner)  # confirmed with the code of START's step


def _finish(client: TestClient, token: str, code: str) -> httpx.Response:
    return client.post("/api/auth/login/2fa", json={"mfaToken": token, "code": code})


def test_the_password_answers_an_mfa_token_and_a_code_signs_in(client: TestClient, clock: object) -> None:
    owner, two_factor = _with_two_factor(client)
    response = client.post("/api/auth/login", json={"email": owner.email, "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"mfaRequired", "mfaToken", "methods"}
    assert body["mfaRequired"] is True and body["methods"] == ["totp", "recovery_code"]

    finished = _finish(client, body["mfaToken"], totp_code(two_factor.secret, steps=1, at=START))
    assert finished.status_code == 200, finished.text
    result = finished.json()
    assert set(result) == {"token", "user", "org"} and result["user"]["id"] == owner.user_id
    me = client.get("/api/auth/me", headers=bearer(result["token"])).json()
    assert me["twoFactor"] is True
    [entry] = audit_entries(client, owner.headers, action="auth.login")
    assert entry["after"] == {"method": "totp"}


def test_a_wrong_password_still_answers_invalid_credentials(client: TestClient) -> None:
    owner, _ = _with_two_factor(client)
    response = client.post("/api/auth/login", json={"email": owner.email, "password": "wrong password"})
    assert_unauthorized(response, "invalid_credentials")
    assert "mfaToken" not in response.text


@pytest.mark.both_databases
def test_each_code_works_once_and_drift_is_one_step_either_way(
    client: TestClient, clock: time_machine.Traveller
) -> None:
    owner, two_factor = _with_two_factor(client)  # the code of step 0 was used to confirm
    secret = two_factor.secret

    def code(steps: int) -> str:
        return totp_code(secret, steps=steps, at=START)

    assert_unauthorized(_finish(client, mfa_token(client, owner.email), code(0)), "invalid_code")  # used to confirm
    assert_unauthorized(_finish(client, mfa_token(client, owner.email), code(2)), "invalid_code")  # too far ahead
    assert _finish(client, mfa_token(client, owner.email), code(1)).status_code == 200  # the clock 30 s behind
    assert_unauthorized(_finish(client, mfa_token(client, owner.email), code(1)), "invalid_code")  # replayed

    clock.shift(timedelta(seconds=60))  # now step 2
    assert_unauthorized(_finish(client, mfa_token(client, owner.email), code(1)), "invalid_code")  # not after step 1
    assert _finish(client, mfa_token(client, owner.email), code(2)).status_code == 200
    clock.shift(timedelta(seconds=90))  # now step 5: step 4 is 30 s behind
    assert _finish(client, mfa_token(client, owner.email), code(4)).status_code == 200
    assert_unauthorized(_finish(client, mfa_token(client, owner.email), code(3)), "invalid_code")  # too old


@pytest.mark.both_databases
def test_a_recovery_code_works_once_as_typed(client: TestClient, clock: object) -> None:
    owner, two_factor = _with_two_factor(client)
    first, second = two_factor.recovery_codes[:2]

    assert _finish(client, mfa_token(client, owner.email), f"  {first.upper()} ").status_code == 200
    assert_unauthorized(_finish(client, mfa_token(client, owner.email), first), "invalid_code")
    assert _finish(client, mfa_token(client, owner.email), second.replace("-", "")).status_code == 200
    entries = audit_entries(client, owner.headers, action="auth.login")
    assert [entry["after"] for entry in entries] == [{"method": "recovery_code"}] * 2


def test_another_persons_recovery_code_does_not_work(client: TestClient, clock: object) -> None:
    owner, _ = _with_two_factor(client)
    _, someone_else = _with_two_factor(client)
    assert_unauthorized(_finish(client, mfa_token(client, owner.email), someone_else.recovery_codes[0]), "invalid_code")


def test_an_mfa_token_is_no_bearer_token_and_a_session_is_no_mfa_token(client: TestClient) -> None:
    owner, _ = _with_two_factor(client)
    token = mfa_token(client, owner.email)
    assert_unauthorized(client.get("/api/auth/me", headers=bearer(token)), "invalid_token")
    assert_unauthorized(client.get("/api/agents", headers=bearer(token)), "invalid_token")
    assert_unauthorized(_finish(client, owner.token, "123456"), "invalid_mfa_token")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert_unauthorized(_finish(client, tampered, "123456"), "invalid_mfa_token")
    assert_unauthorized(_finish(client, "not a token", "123456"), "invalid_mfa_token")


def test_an_mfa_token_names_no_secret_and_lives_five_minutes(client: TestClient, clock: time_machine.Traveller) -> None:
    owner, two_factor = _with_two_factor(client)
    token = mfa_token(client, owner.email)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 300 and claims["sub"] == owner.user_id
    assert claims["aud"] == "provenant:mfa"

    clock.shift(timedelta(seconds=301))
    code = totp_code(two_factor.secret, steps=0)
    assert_unauthorized(_finish(client, token, code), "invalid_mfa_token")


@pytest.mark.both_databases
def test_five_wrong_codes_spend_the_mfa_token(client: TestClient, clock: object) -> None:
    owner, two_factor = _with_two_factor(client)
    token = mfa_token(client, owner.email)
    for _ in range(5):
        assert_unauthorized(_finish(client, token, "000000"), "invalid_code")
    assert_unauthorized(_finish(client, token, two_factor.recovery_codes[0]), "invalid_mfa_token")
    failures = audit_entries(client, owner.headers, action="auth.login_2fa_failed")
    assert len(failures) == 5 and all(entry["after"] == {"email": owner.email, "via": "sign-in"} for entry in failures)
    # The recovery code offered with the spent token was not used up.
    assert _finish(client, mfa_token(client, owner.email), two_factor.recovery_codes[0]).status_code == 200


@pytest.mark.both_databases
def test_an_mfa_token_signs_in_once(client: TestClient, clock: object) -> None:
    owner, two_factor = _with_two_factor(client)
    token = mfa_token(client, owner.email)
    assert _finish(client, token, two_factor.recovery_codes[0]).status_code == 200
    assert_unauthorized(_finish(client, token, two_factor.recovery_codes[1]), "invalid_mfa_token")
    # ...and the refused code is still good.
    assert _finish(client, mfa_token(client, owner.email), two_factor.recovery_codes[1]).status_code == 200


def test_signing_out_everywhere_ends_a_half_finished_sign_in(client: TestClient, clock: object) -> None:
    owner, two_factor = _with_two_factor(client)
    token = mfa_token(client, owner.email)
    assert client.post("/api/auth/logout-all", headers=owner.headers).status_code == 204
    assert_unauthorized(_finish(client, token, two_factor.recovery_codes[0]), "invalid_mfa_token")


def test_turning_two_factor_off_ends_a_half_finished_sign_in(client: TestClient, clock: object) -> None:
    owner, two_factor = _with_two_factor(client)
    token = mfa_token(client, owner.email)
    client.request("DELETE", "/api/auth/2fa", json={"password": PASSWORD}, headers=owner.headers)
    assert_unauthorized(_finish(client, token, two_factor.recovery_codes[0]), "invalid_mfa_token")


def test_hostile_second_steps_are_clear_4xx(client: TestClient) -> None:
    owner, _ = _with_two_factor(client)
    token = mfa_token(client, owner.email)
    for body in (
        {"mfaToken": token},
        {"code": "123456"},
        {"mfaToken": token, "code": "x" * 65},
        {"mfaToken": "x" * 3000, "code": "123456"},
        {"mfaToken": token, "code": ["123456"]},
        {"mfaToken": token, "code": "١٢٣٤٥٦"},
        {"mfaToken": token, "code": "\u0000" * 6},
    ):
        response = client.post("/api/auth/login/2fa", json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert {"error", "code"} <= set(response.json())


@pytest.fixture
def strict_client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    """Sign-ins limited to 3 failures per account and address."""
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, sign_in_failures_per_account=3)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_wrong_codes_count_as_failed_sign_ins(strict_client: TestClient, clock: object) -> None:
    owner, _ = _with_two_factor(strict_client)
    for _ in range(3):
        assert_unauthorized(_finish(strict_client, mfa_token(strict_client, owner.email), "000000"), "invalid_code")

    blocked = strict_client.post("/api/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert blocked.status_code == 429 and blocked.json()["code"] == "too_many_attempts"
    assert int(blocked.headers["Retry-After"]) > 0


def test_the_right_password_does_not_clear_the_count_of_wrong_codes(strict_client: TestClient, clock: object) -> None:
    """Else whoever has the password would get endless tries at codes, five per mfaToken."""
    owner, two_factor = _with_two_factor(strict_client)
    token = mfa_token(strict_client, owner.email)
    assert_unauthorized(_finish(strict_client, token, "000000"), "invalid_code")
    assert_unauthorized(_finish(strict_client, token, "000001"), "invalid_code")
    token = mfa_token(strict_client, owner.email)  # the right password again
    assert_unauthorized(_finish(strict_client, token, "000002"), "invalid_code")
    finished = _finish(strict_client, token, two_factor.recovery_codes[0])
    assert finished.status_code == 429 and finished.json()["code"] == "too_many_attempts"


def test_a_full_sign_in_clears_the_count(strict_client: TestClient, clock: object) -> None:
    owner, two_factor = _with_two_factor(strict_client)
    token = mfa_token(strict_client, owner.email)
    assert_unauthorized(_finish(strict_client, token, "000000"), "invalid_code")
    assert_unauthorized(_finish(strict_client, token, "000001"), "invalid_code")
    assert _finish(strict_client, token, two_factor.recovery_codes[0]).status_code == 200
    for code in ("000002", "000003"):
        assert_unauthorized(_finish(strict_client, mfa_token(strict_client, owner.email), code), "invalid_code")


# --- accepting an invitation is a sign-in too ------------------------------------------------------


def test_an_existing_account_with_two_factor_needs_a_code_to_accept_an_invitation(
    client: TestClient, clock: object
) -> None:
    first_org = register(client)
    person = invite_and_accept(client, first_org, "MEMBER")
    two_factor = turn_on_two_factor(client, person)
    inviter = register(client)
    token = link_token(invite(client, inviter, email=person.email)["inviteLink"])

    without = accept(client, token)
    assert_unauthorized(without, "two_factor_code_required")
    wrong = client.post("/api/auth/accept-invitation", json={"token": token, "password": PASSWORD, "code": "000000"})
    assert_unauthorized(wrong, "invalid_code")
    [failure] = audit_entries(client, first_org.headers, action="auth.login_2fa_failed")
    assert failure["after"]["via"] == "accept-invitation"
    assert client.get("/api/auth/me", headers=person.headers).json()["orgId"] == person.org_id  # not moved

    accepted = client.post(
        "/api/auth/accept-invitation",
        json={"token": token, "password": PASSWORD, "code": two_factor.recovery_codes[1]},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["org"]["id"] == inviter.org_id


def test_the_password_step_of_an_account_without_two_factor_is_unchanged(client: TestClient) -> None:
    owner = register(client)
    assert login(client, owner.email).token
