"""GET /api/audit/export: the same entries as the list, as NDJSON, unlimited, filtered alike."""

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from provenant.db import Database
from provenant.models import AuditEntry
from tests.factories import Account, audit_entries, create_agent, create_key, register
from tests.servers import LiveServer

pytestmark = pytest.mark.both_databases  # the export pages through equal timestamps in SQL


@pytest.fixture
def owner(client: TestClient) -> Account:
    return register(client)


def export(client: TestClient | httpx.Client, owner: Account, **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/audit/export", params=params, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == "application/x-ndjson"
    assert response.text == "" or response.text.endswith("\n")
    return [json.loads(line) for line in response.text.splitlines()]


def test_the_export_is_the_list_as_one_json_object_per_line(client: TestClient, owner: Account) -> None:
    agent = create_agent(client, owner.headers)
    client.patch(f"/api/agents/{agent['id']}", json={"tags": ["x"]}, headers=owner.headers)
    create_key(client, owner)
    assert export(client, owner) == audit_entries(client, owner.headers, limit=200)


def test_the_export_is_not_limited_to_a_page(client: TestClient, owner: Account) -> None:
    for _ in range(60):
        create_agent(client, owner.headers)
    exported = export(client, owner)
    assert len(exported) == 61
    assert exported[:50] == audit_entries(client, owner.headers)
    assert exported[-1]["action"] == "auth.register"


def test_the_export_honours_the_filters(client: TestClient, owner: Account) -> None:
    agent = create_agent(client, owner.headers)
    other = create_agent(client, owner.headers)
    client.delete(f"/api/agents/{agent['id']}", headers=owner.headers)
    create_key(client, owner)

    cases: list[dict[str, str]] = [
        {"action": "agent.create"},
        {"resourceType": "api_key"},
        {"resourceId": agent["id"]},
        {"resourceId": other["id"], "action": "agent.archive"},
        {"userId": owner.user_id},
        {"from": audit_entries(client, owner.headers, resourceId=other["id"])[0]["createdAt"]},
    ]
    for params in cases:
        assert export(client, owner, **params) == audit_entries(client, owner.headers, limit=200, **params), params
    assert [e["action"] for e in export(client, owner, resourceId=agent["id"])] == ["agent.archive", "agent.create"]


def test_the_export_pages_through_entries_sharing_one_timestamp(
    client: TestClient, database: Database, owner: Account
) -> None:
    """More entries than one database page, all in the same microsecond: each comes out once, in order."""
    moment = datetime.now(UTC)
    with database.transaction() as session:
        session.add_all(
            AuditEntry(
                org_id=owner.org_id,
                user_id=owner.user_id,
                action="agent.update",
                resource_type="agent",
                resource_id=f"bulk-{n}",
                created_at=moment,
            )
            for n in range(1234)
        )
    exported = export(client, owner)
    ids = [entry["id"] for entry in exported]
    assert len(ids) == len(set(ids)) == 1235
    bulk = [entry["id"] for entry in exported if entry["resourceId"].startswith("bulk-")]
    assert bulk == sorted(bulk, reverse=True)


def test_the_export_streams_over_a_real_socket(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        owner = register(http)
        for _ in range(3):
            create_agent(http, owner.headers)
        with http.stream("GET", "/api/audit/export", headers=owner.headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].split(";")[0] == "application/x-ndjson"
            lines = [json.loads(line) for line in response.iter_lines() if line]
        assert [entry["action"] for entry in lines] == ["agent.create"] * 3 + ["auth.register"]
        assert lines == export(http, owner)
