"""Ingesting turns: acceptance order under concurrent writers, 201 means stored, and the body limits."""

import threading
import time
from collections import Counter

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from provenant.db import Database
from provenant.models import AgentSession, Turn
from tests.factories import bearer, create_agent, create_key, register
from tests.sessions.factories import add_turn, start_session
from tests.shared_servers import (  # noqa: F401 - fixtures, found by pytest
    dialect_fixture,
    shared_database_fixture,
    shared_database_url_fixture,
    two_workers_fixture,
)

pytestmark = pytest.mark.both_databases  # sequence numbers under concurrent writers rest on each database's locking

WRITERS = 8
TURNS_PER_WRITER = 25
MIB = 1024 * 1024


def _stored_seqs(database: Database, session_id: str) -> tuple[list[int], int]:
    with database.transaction() as session:
        seqs = list(session.scalars(select(Turn.seq).where(Turn.session_id == session_id).order_by(Turn.seq)))
        count = session.scalar(select(AgentSession.turn_count).where(AgentSession.id == session_id))
    return seqs, int(count or 0)


def test_eight_concurrent_writers_keep_their_order_with_dense_sequence_numbers(
    two_workers: str, shared_database: Database
) -> None:
    with httpx.Client(base_url=two_workers, timeout=30) as setup:
        owner = register(setup)
        key = bearer(create_key(setup, owner))
        session_id = start_session(setup, key, create_agent(setup, key)["id"])["id"]

    failures: list[str] = []

    def write(writer: int) -> None:
        with httpx.Client(base_url=two_workers, headers=key, timeout=30) as http:
            for n in range(TURNS_PER_WRITER):
                body = {"role": "USER", "content": f"writer {writer} turn {n}"}
                response = http.post(f"/api/sessions/{session_id}/turns", json=body)
                if response.status_code != 201:
                    failures.append(f"{writer}/{n}: {response.status_code} {response.text}")

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    with httpx.Client(base_url=two_workers, timeout=30) as reader:
        turns = reader.get(f"/api/sessions/{session_id}", headers=key).json()["turns"]
    total = WRITERS * TURNS_PER_WRITER
    assert len(turns) == total
    assert len({turn["id"] for turn in turns}) == total
    # Each writer waited for its 201 before sending the next: its turns come back in its order.
    for writer in range(WRITERS):
        mine = [turn["content"] for turn in turns if turn["content"].startswith(f"writer {writer} ")]
        assert mine == [f"writer {writer} turn {n}" for n in range(TURNS_PER_WRITER)]
    seqs, turn_count = _stored_seqs(shared_database, session_id)
    assert seqs == list(range(1, total + 1))
    assert turn_count == total


def test_every_turn_answered_201_is_stored_when_an_end_races_writers_in_two_processes(
    two_workers: str, shared_database: Database
) -> None:
    with httpx.Client(base_url=two_workers, timeout=30) as setup:
        owner = register(setup)
        key = bearer(create_key(setup, owner))
        session_id = start_session(setup, key, create_agent(setup, key)["id"])["id"]

    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    started = threading.Barrier(WRITERS + 1)

    def write(writer: int) -> None:
        with httpx.Client(base_url=two_workers, headers=key, timeout=30) as http:
            started.wait()
            for n in range(40):
                body = {"role": "USER", "content": f"writer {writer} turn {n}"}
                response = http.post(f"/api/sessions/{session_id}/turns", json=body)
                outcome = "201" if response.status_code == 201 else f"{response.status_code} {response.text}"
                with lock:
                    outcomes[outcome] += 1
                if response.status_code != 201:
                    return

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(WRITERS)]
    for thread in threads:
        thread.start()
    with httpx.Client(base_url=two_workers, headers=key, timeout=30) as http:
        started.wait()
        while sum(outcomes.values()) < 40:
            time.sleep(0.005)
        ended = http.post(f"/api/sessions/{session_id}/end", json={})
        assert ended.status_code == 200
    for thread in threads:
        thread.join()

    accepted = outcomes.pop("201", 0)
    refused = '409 {"error":"This session has ended; it accepts no more turns.","code":"session_ended"}'
    assert set(outcomes) <= {refused}, outcomes
    assert 40 <= accepted < WRITERS * 40
    seqs, turn_count = _stored_seqs(shared_database, session_id)
    assert seqs == list(range(1, accepted + 1))
    assert turn_count == accepted


def test_a_4_mib_turn_is_stored_whole(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    content = "x" * (4 * MIB)
    turn = add_turn(client, owner.headers, session["id"], content, role="ASSISTANT")
    assert turn["content"] == content
    stored = client.get(f"/api/sessions/{session['id']}", headers=owner.headers).json()["turns"]
    assert stored[0]["content"] == content


def test_a_turn_over_5_mib_is_refused_with_413_and_not_stored(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    body = {"role": "USER", "content": "x" * (5 * MIB)}
    response = client.post(f"/api/sessions/{session['id']}/turns", json=body, headers=owner.headers)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert client.get(f"/api/sessions/{session['id']}", headers=owner.headers).json()["turns"] == []


def test_the_other_session_routes_keep_the_1_mib_limit(client: TestClient) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    session = start_session(client, owner.headers, agent["id"])
    big = "x" * (MIB + 1)
    for method, path, body in (
        ("POST", "/api/sessions", {"agentId": agent["id"], "metadata": {"blob": big}}),
        ("POST", f"/api/sessions/{session['id']}/end", {"padding": big}),
        ("PATCH", f"/api/sessions/{session['id']}", {"padding": big}),
    ):
        response = client.request(method, path, json=body, headers=owner.headers)
        assert response.status_code == 413, (method, path, response.status_code)
    assert len(client.get("/api/sessions", headers=owner.headers).json()) == 1
    assert client.get(f"/api/sessions/{session['id']}", headers=owner.headers).json()["status"] == "ACTIVE"
