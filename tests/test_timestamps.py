"""Timestamps a client sends are ISO 8601 date-times that exist in UTC; anything else is a 422.

Before: a time whose UTC value lies past year 9999 answered 500 (and cut the audit export off after
its 200 had started), and a number such as ``to=0.5`` was read as seconds since 1970.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import create_agent, key_headers, register

pytestmark = pytest.mark.both_databases  # the edges of year 1 and 9999 are stored as each database stores timestamps

PAST_9999_IN_UTC = "9999-12-31T20:00:00-05:00"
BEFORE_YEAR_1_IN_UTC = "0001-01-01T00:00:00+05:00"


def assert_invalid(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert [detail["field"] for detail in body["details"]] == [field], body


@pytest.mark.parametrize("expires_at", [PAST_9999_IN_UTC, BEFORE_YEAR_1_IN_UTC, 1893456000, "1893456000", "soon"])
def test_a_key_expiry_must_be_a_date_time_in_utcs_range(client: TestClient, expires_at: Any) -> None:
    owner = register(client)
    response = client.post("/api/org/keys", json={"name": "ci", "expiresAt": expires_at}, headers=owner.headers)
    assert_invalid(response, "expiresAt")
    assert client.get("/api/org/keys", headers=owner.headers).json() == []


def test_the_last_instant_of_year_9999_is_a_valid_expiry(client: TestClient) -> None:
    owner = register(client)
    body = {"name": "ci", "expiresAt": "9999-12-31T23:59:59.999Z"}
    response = client.post("/api/org/keys", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    assert response.json()["expiresAt"] == "9999-12-31T23:59:59.999Z"


@pytest.mark.parametrize("bound", ["from", "to"])
@pytest.mark.parametrize("value", [PAST_9999_IN_UTC, "0.5", "1700000000"])
def test_audit_bounds_must_be_date_times(client: TestClient, bound: str, value: str) -> None:
    owner = register(client)
    assert_invalid(client.get("/api/audit", params={bound: value}, headers=owner.headers), bound)
    assert_invalid(client.get("/api/audit/export", params={bound: value}, headers=owner.headers), bound)


def test_the_export_up_to_the_end_of_time_is_complete(client: TestClient) -> None:
    owner = register(client)
    listed = client.get("/api/audit", params={"to": "9999-12-31T23:59:59.999Z"}, headers=owner.headers)
    assert listed.status_code == 200, listed.text
    assert [entry["action"] for entry in listed.json()] == ["auth.register"]
    exported = client.get("/api/audit/export", params={"to": "9999-12-31T23:59:59.999Z"}, headers=owner.headers)
    assert exported.status_code == 200
    assert len(exported.text.splitlines()) == 1


def test_a_session_end_time_past_9999_in_utc_is_refused(client: TestClient) -> None:
    owner = register(client)
    headers = key_headers(client, owner)
    agent = create_agent(client, headers)
    session = client.post("/api/sessions", json={"agentId": agent["id"]}, headers=headers).json()
    response = client.patch(f"/api/sessions/{session['id']}", json={"endedAt": PAST_9999_IN_UTC}, headers=headers)
    assert_invalid(response, "endedAt")
    assert client.get(f"/api/sessions/{session['id']}", headers=headers).json()["status"] == "ACTIVE"
