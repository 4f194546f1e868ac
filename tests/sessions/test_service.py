"""The listing's queries read the (org, ..., created_at) indexes: they stay fast at 100,000 sessions.

The database is asked for its plan of the exact statement list_sessions runs, over 4,000 sessions of
20 agents (written underneath the API: only their shape matters here) and fresh planner statistics.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, insert

from provenant.auth.principal import Principal
from provenant.auth.roles import Access, Role
from provenant.db import Database, is_sqlite
from provenant.models import Agent, AgentSession, Turn, new_id
from provenant.paging import PageRequest
from provenant.sessions import service
from tests.factories import Account, register

pytestmark = pytest.mark.both_databases  # query plans are each database's own


@contextmanager
def _statements(database: Database) -> Iterator[list[tuple[str, Any]]]:
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        yield captured
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)


def _seed(database: Database, org_id: str, user_id: str, key_ids: Sequence[str | None] = (None,)) -> list[str]:
    """4,000 sessions of 20 agents, a quarter of them ACTIVE, each with one turn, created in turn by
    ``key_ids`` (None: through the dashboard); the agents' ids."""
    now = datetime.now(UTC)
    agents = [new_id() for _ in range(20)]
    sessions: list[dict[str, Any]] = [
        {
            "id": new_id(),
            "org_id": org_id,
            "agent_id": agents[n % 20],
            "created_by_api_key_id": key_ids[n % len(key_ids)],
            "tags": [],
            "turn_count": 1,
            "status": ("ACTIVE", "COMPLETED", "COMPLETED", "FAILED")[n % 4],
            "started_at": now,
            "created_at": now - timedelta(seconds=n),
            "updated_at": now,
        }
        for n in range(4000)
    ]
    with database.transaction() as session:
        session.execute(
            insert(Agent),
            [{"id": a, "org_id": org_id, "name": a, "slug": a, "created_by_id": user_id} for a in agents],
        )
        session.execute(insert(AgentSession), sessions)
        turns = [
            {
                "id": new_id(),
                "session_id": row["id"],
                "seq": 1,
                "role": "USER",
                "content": "hello",
                "content_text": "hello",
                "created_at": now,
            }
            for row in sessions
        ]
        session.execute(insert(Turn), turns)
    with database.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return agents


def _plan(database: Database, *, caller: Principal | None = None, **filters: Any) -> str:
    owner = caller or Principal(org_id=filters.pop("org_id"), user_id="-", role=Role.OWNER)
    filters.pop("org_id", None)
    arguments = {"agent_id": None, "status": None, "q": None, "page": PageRequest(50, None), **filters}
    with database.transaction() as session, _statements(database) as captured:
        service.list_sessions(session, owner, **arguments)
        statement, parameters = captured[-1]
        connection = session.connection()
        if is_sqlite(database.url):
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return "\n".join(str(row[-1]) for row in rows)
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, "ix_sessions_org_created"),
        ({"agent": True}, "ix_sessions_org_agent_created"),
        ({"status": "COMPLETED"}, "ix_sessions_org_status_created"),
        ({"q": "hello"}, "ix_sessions_org_created"),
    ],
)
def test_each_listing_filter_reads_its_org_created_at_index(
    client: TestClient, database: Database, filters: dict[str, Any], index: str
) -> None:
    owner = register(client)
    agents = _seed(database, owner.org_id, owner.user_id)
    if filters.pop("agent", False):
        filters["agent_id"] = agents[3]

    plan = _plan(database, org_id=owner.org_id, **filters)
    assert index in plan, plan
    if filters.get("q"):
        # Any index that leads with session_id serves the turns' lookup.
        turn_indexes = ("uq_turns_session_seq", "uq_turns_session_client_id", "sqlite_autoindex_turns")
        assert any(name in plan for name in turn_indexes), plan


@pytest.mark.parametrize("rolls", [0, 2])
def test_an_ingest_keys_listing_reads_the_index_of_the_sessions_it_created(
    client: TestClient, database: Database, rolls: int
) -> None:
    """Its own sessions, and (rolled) those of the keys of its roll chain: the same index, among the
    sessions of 20 keys and of the dashboard."""
    owner = register(client)
    keys = [_ingest_key(client, owner)["id"] for _ in range(20 - rolls)]
    key = {"id": keys[0]}
    for _ in range(rolls):
        key = client.post(f"/api/org/keys/{key['id']}/roll", json={"graceSeconds": 60}, headers=owner.headers).json()
        keys.append(key["id"])
    _seed(database, owner.org_id, owner.user_id, [*keys, None])
    ingest_key = Principal(
        org_id=owner.org_id, user_id=owner.user_id, role=Role.OWNER, api_key_id=key["id"], access=Access.INGEST
    )
    plan = _plan(database, caller=ingest_key)
    if rolls == 0:
        assert "ix_sessions_org_key_created" in plan, plan
    else:  # a few keys' sessions: the key index, or the org's newest first filtered (the planner's choice)
        assert "ix_sessions_org_key_created" in plan or "ix_sessions_org_created" in plan, plan
    assert "Seq Scan" not in plan and "SCAN sessions" not in plan, plan


def _ingest_key(client: TestClient, owner: Account) -> dict[str, Any]:
    created = client.post("/api/org/keys", json={"name": "agent", "access": "ingest"}, headers=owner.headers)
    assert created.status_code == 201, created.text
    return dict(created.json())
