"""Batches racing on one session, in two server processes: what the database decides under contention.

Every batch takes its session's row first, so a batch and its resend never both store a turn, and
batches of one session never interleave their places.
"""

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from provenant.db import Database
from provenant.models import AgentSession, Turn
from tests.factories import bearer, create_agent, create_key, register
from tests.sessions.factories import start_session
from tests.shared_servers import (  # noqa: F401 - fixtures, found by pytest
    dialect_fixture,
    shared_database_fixture,
    shared_database_url_fixture,
    two_workers_fixture,
)

pytestmark = pytest.mark.both_databases  # batches racing on one session meet each database's locking

SENDERS = 6
BATCH = 50
# A race is won or lost in a millisecond: each one is run on several fresh sessions.
ROUNDS = 4


def _setup(url: str) -> tuple[dict[str, str], str]:
    """A key and an agent of a new org."""
    with httpx.Client(base_url=url, timeout=30) as http:
        owner = register(http)
        key = bearer(create_key(http, owner))
        return key, str(create_agent(http, key)["id"])


def _new_session(url: str, key: dict[str, str], agent_id: str) -> str:
    with httpx.Client(base_url=url, timeout=30) as http:
        return str(start_session(http, key, agent_id)["id"])


def _race(
    url: str, key: dict[str, str] | list[dict[str, str]], bodies: list[Any], session_id: str
) -> list[httpx.Response]:
    """Sends every body at once, one thread and one connection each (with ``key``, or the key of its place)."""
    started = threading.Barrier(len(bodies))
    answers: list[httpx.Response | None] = [None] * len(bodies)
    keys = key if isinstance(key, list) else [key] * len(bodies)

    def send(index: int) -> None:
        with httpx.Client(base_url=url, headers=keys[index], timeout=30) as http:
            started.wait()
            answers[index] = http.post(f"/api/sessions/{session_id}/turns", json=bodies[index])

    _run_all([partial(send, index) for index in range(len(bodies))])
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def _run_all(tasks: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=task) for task in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _stored(database: Database, session_id: str) -> tuple[list[tuple[int, str | None, Any]], int]:
    with database.transaction() as session:
        rows = session.execute(
            select(Turn.seq, Turn.client_id, Turn.content).where(Turn.session_id == session_id).order_by(Turn.seq)
        ).all()
        count = session.scalar(select(AgentSession.turn_count).where(AgentSession.id == session_id))
    return [tuple(row) for row in rows], int(count or 0)


def test_identical_batches_racing_store_each_turn_once_and_all_get_the_same_answer(
    two_workers: str, shared_database: Database
) -> None:
    key, agent_id = _setup(two_workers)
    batch = [{"role": "USER", "content": f"turn {n}", "clientId": f"c-{n}"} for n in range(BATCH)]
    for _ in range(ROUNDS):
        session_id = _new_session(two_workers, key, agent_id)

        answers = _race(two_workers, key, [batch] * SENDERS, session_id)

        assert [answer.status_code for answer in answers] == [201] * SENDERS, [a.text for a in answers]
        first = answers[0].json()
        assert all(answer.json() == first for answer in answers)
        stored, turn_count = _stored(shared_database, session_id)
        assert stored == [(n + 1, f"c-{n}", f"turn {n}") for n in range(BATCH)]
        assert turn_count == BATCH


def test_overlapping_batches_racing_store_the_union_once_each_batch_in_its_order(
    two_workers: str, shared_database: Database
) -> None:
    """Sender k resends turns k*10 .. k*10+29: every turn is held by two or three batches."""
    key, agent_id = _setup(two_workers)
    bodies = [
        [{"role": "USER", "content": f"turn {n}", "clientId": f"c-{n}"} for n in range(sender * 10, sender * 10 + 30)]
        for sender in range(SENDERS)
    ]
    expected = SENDERS * 10 + 20
    for _ in range(ROUNDS):
        session_id = _new_session(two_workers, key, agent_id)

        answers = _race(two_workers, key, bodies, session_id)

        assert [answer.status_code for answer in answers] == [201] * SENDERS, [a.text for a in answers]
        by_client_id: dict[str, str] = {}
        for body, answer in zip(bodies, answers, strict=True):
            turns = answer.json()
            assert [turn["clientId"] for turn in turns] == [turn["clientId"] for turn in body]
            for turn in turns:
                assert by_client_id.setdefault(turn["clientId"], turn["id"]) == turn["id"]
        stored, turn_count = _stored(shared_database, session_id)
        assert sorted(str(client_id) for _, client_id, _ in stored) == sorted(f"c-{n}" for n in range(expected))
        assert [seq for seq, _, _ in stored] == list(range(1, expected + 1))
        assert turn_count == expected


@pytest.mark.parametrize("with_client_ids", [False, True])
def test_batches_racing_each_take_one_run_of_places_in_their_order(
    two_workers: str, shared_database: Database, with_client_ids: bool
) -> None:
    key, agent_id = _setup(two_workers)
    session_id = _new_session(two_workers, key, agent_id)
    bodies = [
        [
            {"role": "USER", "content": f"{sender}-{n}", **({"clientId": f"{sender}-{n}"} if with_client_ids else {})}
            for n in range(BATCH)
        ]
        for sender in range(SENDERS)
    ]

    answers = _race(two_workers, key, bodies, session_id)

    assert [answer.status_code for answer in answers] == [201] * SENDERS, [a.text for a in answers]
    stored, turn_count = _stored(shared_database, session_id)
    assert [seq for seq, _, _ in stored] == list(range(1, SENDERS * BATCH + 1))
    assert turn_count == SENDERS * BATCH
    runs = [[content for _, _, content in stored[start : start + BATCH]] for start in range(0, len(stored), BATCH)]
    assert sorted(runs) == sorted([turn["content"] for turn in body] for body in bodies)


def test_batches_racing_an_end_are_stored_whole_or_not_at_all(two_workers: str, shared_database: Database) -> None:
    key, agent_id = _setup(two_workers)
    session_id = _new_session(two_workers, key, agent_id)
    bodies = [
        [{"role": "USER", "content": f"sender {sender} turn {n}", "clientId": f"{sender}-{n}"} for n in range(40)]
        for sender in range(SENDERS)
    ]
    answers: list[httpx.Response] = []
    ended: list[httpx.Response] = []

    def end() -> None:
        with httpx.Client(base_url=two_workers, headers=key, timeout=30) as http:
            ended.append(http.post(f"/api/sessions/{session_id}/end", json={}))

    racers: list[Callable[[], None]] = [lambda: answers.extend(_race(two_workers, key, bodies, session_id)), end]
    _run_all(racers)

    assert ended[0].status_code == 200
    accepted = [body for body, answer in zip(bodies, answers, strict=True) if answer.status_code == 201]
    refused = [answer for answer in answers if answer.status_code != 201]
    assert all(answer.status_code == 409 and answer.json()["code"] == "session_ended" for answer in refused)
    stored, turn_count = _stored(shared_database, session_id)
    assert sorted(str(client_id) for _, client_id, _ in stored) == sorted(
        turn["clientId"] for body in accepted for turn in body
    )
    assert turn_count == len(stored) == 40 * len(accepted)


def test_a_rolled_ingest_key_and_its_successor_racing_on_one_session(
    two_workers: str, shared_database: Database
) -> None:
    """30 batches, half from the ingest key that started the session (one UPDATE) and half from its
    successor after a roll (found through the roll chain, then the UPDATE): every one stored whole in
    one run of places. Then the same while the successor ends the session: each batch is stored whole
    or refused 409, none half-written."""
    with httpx.Client(base_url=two_workers, timeout=30) as http:
        owner = register(http)
        agent_id = str(create_agent(http, owner.headers)["id"])
        old = http.post("/api/org/keys", json={"name": "agent", "access": "ingest"}, headers=owner.headers).json()
        old_key = bearer(old["key"])
        sessions = [str(start_session(http, old_key, agent_id)["id"]) for _ in range(2)]
        rolled = http.post(f"/api/org/keys/{old['id']}/roll", json={"graceSeconds": 600}, headers=owner.headers)
        new_key = bearer(rolled.json()["key"])
    senders = 30
    bodies = [
        [{"role": "USER", "content": f"{n}-{i}", "clientId": f"{n}-{i}"} for i in range(10)] for n in range(senders)
    ]
    keys = [old_key if n % 2 else new_key for n in range(senders)]

    answers = _race(two_workers, keys, bodies, sessions[0])

    assert [answer.status_code for answer in answers] == [201] * senders, [a.text for a in answers]
    _assert_whole_runs(shared_database, sessions[0], bodies)

    racing: list[httpx.Response] = []
    ended: list[httpx.Response] = []

    def end() -> None:
        with httpx.Client(base_url=two_workers, headers=new_key, timeout=30) as http:
            ended.append(http.post(f"/api/sessions/{sessions[1]}/end", json={}))

    _run_all([lambda: racing.extend(_race(two_workers, keys, bodies, sessions[1])), end])

    assert ended[0].status_code == 200, ended[0].text
    assert {answer.status_code for answer in racing} <= {201, 409}, [a.text for a in racing]
    assert all(answer.json()["code"] == "session_ended" for answer in racing if answer.status_code == 409)
    _assert_whole_runs(
        shared_database,
        sessions[1],
        [body for body, answer in zip(bodies, racing, strict=True) if answer.status_code == 201],
    )


def _assert_whole_runs(database: Database, session_id: str, accepted: list[list[dict[str, Any]]]) -> None:
    stored, turn_count = _stored(database, session_id)
    assert turn_count == len(stored) == sum(len(body) for body in accepted)
    assert [seq for seq, _, _ in stored] == list(range(1, len(stored) + 1))
    size = len(accepted[0]) if accepted else 1
    runs = [[content for _, _, content in stored[start : start + size]] for start in range(0, len(stored), size)]
    assert sorted(runs) == sorted([turn["content"] for turn in body] for body in accepted)
