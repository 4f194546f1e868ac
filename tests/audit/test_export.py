"""GET /api/audit/export: the same entries as the list, as NDJSON, unlimited, filtered alike; whole, or
refused with 503 busy before it starts."""

import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database
from provenant.models import AuditEntry
from tests.factories import Account, audit_entries, create_agent, create_key, register, unique
from tests.servers import LiveServer, serve

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


def add_entries_in_one_microsecond(database: Database, owner: Account, count: int) -> None:
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
            for n in range(count)
        )


def test_the_export_pages_through_entries_sharing_one_timestamp(
    client: TestClient, database: Database, owner: Account
) -> None:
    """More entries than one database page, all in the same microsecond: each comes out once, in order."""
    add_entries_in_one_microsecond(database, owner, 1234)
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


@pytest.fixture
def pool_of_one(tmp_path: Path, database_url: str, database: Database) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, db_pool_size=1, db_max_overflow=0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def assert_refused_before_it_started(response: httpx.Response) -> None:
    """Not a 200 whose NDJSON stops short: the contract's 503, which clients retry."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == "busy"
    assert response.headers["Retry-After"] == "1"


def test_an_export_with_no_free_connection_is_refused_before_it_starts(pool_of_one: TestClient) -> None:
    client = pool_of_one
    owner = register(client)
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    with database.engine.connect() as held:  # the pool's only connection, as a long request would hold it
        held.execute(text("SELECT 1"))
        assert_refused_before_it_started(client.get("/api/audit/export", headers=owner.headers))
    assert [entry["action"] for entry in export(client, owner)] == ["auth.register"]


def test_an_export_while_other_requests_take_the_pool_is_whole_or_refused(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    """A pool of one connection, writers taking it all the time, and exports of three database pages each:
    each export is every entry, or a 503 before its first byte. (Taking a connection a page, an export lost
    the race for a later page and its 200 ended in the middle of the NDJSON.)"""
    pool_of_one = {"PROVENANT_DB_POOL_SIZE": "1", "PROVENANT_DB_MAX_OVERFLOW": "0"}
    with (
        serve(tmp_path, database_url, env=pool_of_one) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        exporter, writer = register(http), register(http)
        add_entries_in_one_microsecond(database, exporter, 1234)
        stop = threading.Event()
        written: Counter[int] = Counter()

        def write() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as own:
                while not stop.is_set():
                    name = unique("agent")
                    written[
                        own.post("/api/agents", json={"name": name, "slug": name}, headers=writer.headers).status_code
                    ] += 1

        writers = [threading.Thread(target=write) for _ in range(3)]
        for thread in writers:
            thread.start()
        try:
            answers = [http.get("/api/audit/export", headers=exporter.headers) for _ in range(6)]
        finally:
            stop.set()
            for thread in writers:
                thread.join()

    whole = [response for response in answers if response.status_code == 200]
    for response in answers:
        if response.status_code != 200:
            assert_refused_before_it_started(response)
    assert whole, f"no export ran: {[r.status_code for r in answers]}"
    for response in whole:
        lines = [json.loads(line) for line in response.text.splitlines()]
        assert len(lines) == len({entry["id"] for entry in lines}) == 1235
        assert lines[-1]["action"] == "auth.register"
    assert set(written) <= {201, 503} and written[201] > 0, written
