"""POST /api/keys/report-leaked: anyone may report keys found exposed; every active one among them is
revoked as "leaked", and the answer is the same whatever the keys were, sent before any of them is
looked up (test_leaked_busy.py shows it with the database locked). Bounded, and limited per client IP."""

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import Account, assert_unauthorized, bearer, register
from tests.servers import serve

REPORT = "/api/keys/report-leaked"
KEYS = "/api/org/keys"
UNKNOWN = "pk_live_" + "0123456789abcdef" * 2
START = datetime(2031, 8, 1, 8, 0, 0, tzinfo=UTC)


def _create(client: TestClient | httpx.Client, account: Account, **body: Any) -> dict[str, Any]:
    response = client.post(KEYS, json={"name": "ci", **body}, headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _listed(client: TestClient | httpx.Client, account: Account, key_id: str) -> dict[str, Any]:
    keys = client.get(f"{KEYS}?includeRevoked=true", headers=account.headers).json()
    return dict(next(key for key in keys if key["id"] == key_id))


def _report(client: TestClient | httpx.Client, keys: Any) -> httpx.Response:
    return client.post(REPORT, json={"keys": keys})


def test_an_active_key_reported_is_revoked_as_leaked_and_audited(client: TestClient) -> None:
    owner = register(client)
    created = _create(client, owner)

    response = _report(client, [created["key"]])

    assert response.status_code == 202, response.text
    assert response.json() == {"received": 1}
    assert_unauthorized(client.get("/api/auth/me", headers=bearer(created["key"])), "api_key_revoked")
    listed = _listed(client, owner, created["id"])
    assert listed["revokedReason"] == "leaked"
    assert listed["revokedAt"] is not None and listed["isActive"] is False
    (entry,) = client.get("/api/audit", params={"action": "apikey.revoked_leaked"}, headers=owner.headers).json()
    assert (entry["resourceType"], entry["resourceId"]) == ("api_key", created["id"])
    assert entry["user"] is None  # nobody of the org did it
    assert entry["ipAddress"] == "testclient"
    assert entry["after"]["revokedReason"] == "leaked"
    assert created["key"] not in str(entry) and created["key"][8:] not in str(entry)


def test_the_answer_is_the_same_whatever_the_keys_are(client: TestClient) -> None:
    owner = register(client)
    revoked = _create(client, owner, name="revoked")
    assert client.delete(f"{KEYS}/{revoked['id']}", headers=owner.headers).status_code == 200
    reports = {
        "real": [_create(client, owner, name="real")["key"]],
        "unknown": [UNKNOWN],
        "revoked": [revoked["key"]],
        "malformed": ["pk_live_not-a-key"],
        "stripe": ["pk_live_51H8xYzAbCdEfGhIjKlMnOpQr"],
    }
    answers = {kind: _report(client, keys) for kind, keys in reports.items()}
    for kind, answer in answers.items():
        assert answer.status_code == 202, kind
        assert answer.content == b'{"received":1}', kind
    header_sets = {kind: sorted(set(answer.headers) - {"x-request-id", "date"}) for kind, answer in answers.items()}
    assert len({tuple(names) for names in header_sets.values()}) == 1, header_sets


def test_received_counts_what_was_sent_duplicates_and_all(client: TestClient) -> None:
    owner = register(client)
    first, second = _create(client, owner, name="first"), _create(client, owner, name="second")
    sent = [first["key"], first["key"], UNKNOWN, "nonsense", second["key"]]
    response = _report(client, sent)
    assert response.json() == {"received": 5}
    assert _listed(client, owner, first["id"])["revokedReason"] == "leaked"
    assert _listed(client, owner, second["id"])["revokedReason"] == "leaked"
    assert len(client.get("/api/audit", params={"action": "apikey.revoked_leaked"}, headers=owner.headers).json()) == 2


def test_keys_of_several_orgs_are_each_revoked_in_their_org(client: TestClient) -> None:
    acme, globex = register(client), register(client)
    acme_key, globex_key = _create(client, acme), _create(client, globex)
    assert _report(client, [acme_key["key"], globex_key["key"]]).status_code == 202
    for owner, key in ((acme, acme_key), (globex, globex_key)):
        assert _listed(client, owner, key["id"])["revokedReason"] == "leaked"
        entries = client.get("/api/audit", params={"action": "apikey.revoked_leaked"}, headers=owner.headers).json()
        assert [entry["resourceId"] for entry in entries] == [key["id"]]


def test_a_key_in_its_grace_period_is_revoked_too(client: TestClient) -> None:
    """It was rolled, perhaps because it leaked, and still works: a report ends it now."""
    owner = register(client)
    old = _create(client, owner)
    new = client.post(f"{KEYS}/{old['id']}/roll", json={"graceSeconds": 86400}, headers=owner.headers).json()
    assert _report(client, [old["key"]]).status_code == 202
    assert_unauthorized(client.get("/api/auth/me", headers=bearer(old["key"])), "api_key_revoked")
    assert client.get("/api/auth/me", headers=bearer(new["key"])).status_code == 200


def test_a_key_revoked_before_keeps_its_reason_and_time(client: TestClient) -> None:
    owner = register(client)
    created = _create(client, owner)
    assert client.delete(f"{KEYS}/{created['id']}", headers=owner.headers).status_code == 200
    before = _listed(client, owner, created["id"])
    assert before["revokedReason"] == "revoked"
    assert _report(client, [created["key"]]).status_code == 202
    assert _listed(client, owner, created["id"]) == before
    assert client.get("/api/audit", params={"action": "apikey.revoked_leaked"}, headers=owner.headers).json() == []


def test_an_expired_key_is_not_active_and_is_left_as_it_is(client: TestClient) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        owner = register(client)
        expires_at = (START + timedelta(hours=1)).isoformat()
        created = _create(client, owner, expiresAt=expires_at)
        traveller.shift(timedelta(hours=2))
        assert _report(client, [created["key"]]).status_code == 202
        listed = _listed(client, owner, created["id"])
        assert (listed["revokedAt"], listed["revokedReason"]) == (None, None)


# --- bounded ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"keys": []}, "keys"),
        ({"keys": [UNKNOWN] * 101}, "keys"),
        ({"keys": ["x" * 201]}, "keys.0"),
        ({"keys": [UNKNOWN, 42]}, "keys.1"),
        ({"keys": UNKNOWN}, "keys"),
        ({}, "keys"),
        ([UNKNOWN], "body"),
    ],
)
def test_a_report_outside_its_bounds_is_refused(client: TestClient, body: Any, field: str) -> None:
    response = client.post(REPORT, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert [detail["field"] for detail in response.json()["details"]] == [field]


def test_a_hundred_keys_are_accepted(client: TestClient) -> None:
    owner = register(client)
    created = _create(client, owner)
    response = _report(client, [UNKNOWN] * 99 + [created["key"]])
    assert response.json() == {"received": 100}
    assert _listed(client, owner, created["id"])["revokedReason"] == "leaked"


def test_a_body_that_is_not_json_or_too_large_is_refused(client: TestClient) -> None:
    assert client.post(REPORT, content=b"{keys", headers={"Content-Type": "application/json"}).status_code == 400
    huge = b'{"keys": ["' + b"a" * (1024 * 1024) + b'"]}'
    assert client.post(REPORT, content=huge, headers={"Content-Type": "application/json"}).status_code == 413


# --- limited per client IP ----------------------------------------------------------------------------


@pytest.mark.parametrize("redis", [False, True], ids=["database-counters", "redis-counters"])
def test_past_100_reports_an_hour_an_address_gets_429_and_nothing_is_revoked(
    tmp_path: Path, database_url: str, database: Database, redis: bool
) -> None:
    env: dict[str, str] = {}
    if redis:
        env = {"PROVENANT_REDIS_URL": "redis://127.0.0.1:6379/0", "PROVENANT_REDIS_PREFIX": f"test-{uuid.uuid4().hex}:"}
    with serve(tmp_path, database_url, env=env) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        owner = register(http)
        created = _create(http, owner)
        for _ in range(100):
            assert _report(http, [UNKNOWN]).status_code == 202

        refused = _report(http, [created["key"]])

        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "too_many_attempts"
        assert 1 <= int(refused.headers["Retry-After"]) <= 3600
        time.sleep(0.5)  # what a 202 would have revoked after answering
        assert _listed(http, owner, created["id"])["revokedAt"] is None
        assert http.get("/api/auth/me", headers=bearer(created["key"])).status_code == 200


def test_the_limit_lifts_after_the_hour(client: TestClient) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(100):
            assert _report(client, [UNKNOWN]).status_code == 202
        assert _report(client, [UNKNOWN]).status_code == 429
        traveller.shift(timedelta(hours=1))
        assert _report(client, [UNKNOWN]).status_code == 202
