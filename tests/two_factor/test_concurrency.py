"""Codes used at once: 30 requests presenting one code, released together against two server processes on one
database, get exactly one success; one mfaToken gets exactly five codes checked."""

import secrets
import threading
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from provenant.db import Database
from provenant.models import RecoveryCode
from tests.factories import PASSWORD, audit_entries, mfa_token, register, totp_code, turn_on_two_factor
from tests.shared_servers import (  # noqa: F401 - fixtures, found by pytest
    dialect_fixture,
    shared_database_fixture,
    shared_database_url_fixture,
    two_workers_fixture,
)

pytestmark = pytest.mark.both_databases  # the conditional UPDATEs race as each database decides

CALLERS = 30


def race(url: str, calls: list[tuple[str, str, dict[str, Any], dict[str, str]]]) -> list[httpx.Response]:
    """Each (method, path, body, headers) from its own thread and connection, released together."""
    start = threading.Barrier(len(calls))
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def call(method: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            http.get("/api/health")  # connected before the start
            start.wait()
            response = http.request(method, path, json=body, headers=headers)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=call, args=arguments) for arguments in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def _codes(responses: list[httpx.Response]) -> Counter[str]:
    return Counter(str(r.status_code) if r.status_code < 300 else r.json()["code"] for r in responses)


def test_each_code_is_used_once(two_workers: str, shared_database: Database) -> None:
    """Four races: confirming a setup, asking for new recovery codes, signing in with a TOTP code, and (another
    person, for the losers of a race count as failed sign-ins of the account) with a recovery code."""
    with httpx.Client(base_url=two_workers, timeout=30) as http:
        owner = register(http)
        secret = http.post("/api/auth/2fa/totp", headers=owner.headers).json()["secret"]
        confirm = [("POST", "/api/auth/2fa/totp/confirm", {"code": totp_code(secret)}, owner.headers)] * CALLERS
        outcomes = _codes(race(two_workers, confirm))
        # The others find it on already, or lose the UPDATE that turns it on.
        assert outcomes["200"] == 1 and set(outcomes) <= {"200", "invalid_code", "two_factor_already_enabled"}
        assert len(audit_entries(http, owner.headers, action="auth.2fa_enabled")) == 1
        assert _stored_recovery_codes(shared_database, owner.user_id) == 10

        calls = [("POST", "/api/auth/2fa/recovery-codes", {"password": PASSWORD}, owner.headers)] * CALLERS
        responses = race(two_workers, calls)
        # Password checks are counted before they run (10 per account and address), and waiting for the row lock past
        # PROVENANT_DB_LOCK_TIMEOUT answers 503 busy; nothing else may fail.
        statuses = {r.status_code for r in responses}
        assert statuses <= {200, 429, 503}, [r.text for r in responses if r.status_code != 200]
        assert any(r.status_code == 200 for r in responses)
        assert _stored_recovery_codes(shared_database, owner.user_id) == 10

        other = register(http)
        recovery_code = turn_on_two_factor(http, other).recovery_codes[0]
        for person, code in ((owner, totp_code(secret, steps=1)), (other, recovery_code)):  # the next step's: unused
            tokens = [mfa_token(http, person.email) for _ in range(CALLERS)]
            calls = [("POST", "/api/auth/login/2fa", {"mfaToken": token, "code": code}, {}) for token in tokens]
            outcomes = _codes(race(two_workers, calls))
            assert outcomes["200"] == 1, outcomes
            assert set(outcomes) <= {"200", "invalid_code", "too_many_attempts"}, outcomes


def test_one_mfa_token_gets_five_codes_checked(two_workers: str) -> None:
    with httpx.Client(base_url=two_workers, timeout=30) as http:
        owner = register(http)
        turn_on_two_factor(http, owner)
        token = mfa_token(http, owner.email)
        # Recovery codes of nobody's (a 6-digit guess could, rarely, be the current code).
        wrong = [("POST", "/api/auth/login/2fa", {"mfaToken": token, "code": code}, {}) for code in _guesses()]
        outcomes = _codes(race(two_workers, wrong))
        checked = audit_entries(http, owner.headers, action="auth.login_2fa_failed")

    assert outcomes == Counter({"invalid_code": 5, "invalid_mfa_token": CALLERS - 5}), outcomes
    assert len(checked) == 5


def _guesses() -> list[str]:
    return ["".join(secrets.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(12)) for _ in range(CALLERS)]


def _stored_recovery_codes(database: Database, user_id: str) -> int:
    with database.transaction(writes=False) as session:
        return session.scalar(select(func.count()).where(RecoveryCode.user_id == user_id)) or 0
