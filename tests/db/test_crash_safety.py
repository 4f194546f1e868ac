"""A server killed with SIGKILL mid-write loses nothing it answered 2xx, on SQLite and on PostgreSQL.

Key-authenticated clients write turns and create and revoke keys against a real ``provenant serve``
until the process is killed (``SIGKILL``: no shutdown, no flush); a new server on the same data
directory and database must then hold every turn and key answered 201, refuse every key whose
revocation was answered 200, and (SQLite) pass ``PRAGMA integrity_check``. The database is never
touched: on PostgreSQL only the server dies.
"""

import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from provenant.db import is_sqlite
from tests.factories import assert_unauthorized, bearer, create_agent, create_key, register
from tests.servers import serve

pytestmark = pytest.mark.both_databases  # what survives a SIGKILL is each database's durability

WRITERS = 4
RUN_SECONDS = 2.0
MAX_KEYS = 60  # created by the key client; stays under the 100-active-keys and the failed-key-auth limits


@dataclass
class Answered:
    """What the server answered 2xx, in the order the answers came."""

    turns: dict[str, list[str]] = field(default_factory=dict)  # session id → turn ids
    created_keys: dict[str, str] = field(default_factory=dict)  # key id → raw key
    revoked_keys: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # answers other than 2xx before the kill


def write_turns(url: str, headers: dict[str, str], session_id: str, answered: Answered, stop: threading.Event) -> None:
    turns = answered.turns[session_id]
    with httpx.Client(base_url=url, headers=headers, timeout=5) as http:
        while not stop.is_set():
            body = {"role": "USER", "content": f"turn {len(turns)}", "metadata": {"n": len(turns)}}
            try:
                response = http.post(f"/api/sessions/{session_id}/turns", json=body)
            except httpx.TransportError:
                return  # the server is gone
            if response.status_code == 201:
                turns.append(response.json()["id"])
            else:
                answered.failures.append(response.text)


def churn_keys(url: str, headers: dict[str, str], answered: Answered, stop: threading.Event) -> None:
    """Create keys; revoke two of every three right after their creation."""
    with httpx.Client(base_url=url, headers=headers, timeout=5) as http:
        for index in range(MAX_KEYS):
            if stop.is_set():
                return
            try:
                created = http.post("/api/org/keys", json={"name": f"churn-{index}"})
                if created.status_code != 201:
                    answered.failures.append(created.text)
                    continue
                key = created.json()
                answered.created_keys[key["id"]] = key["key"]
                if index % 3:
                    revoked = http.delete(f"/api/org/keys/{key['id']}")
                    if revoked.status_code == 200:
                        answered.revoked_keys[key["id"]] = key["key"]
                    else:
                        answered.failures.append(revoked.text)
            except httpx.TransportError:
                return


def list_all(http: httpx.Client, path: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, following ``Link: rel="next"`` should the list page."""
    items: list[dict[str, Any]] = []
    response = http.get(path, params={"limit": 200, **params}, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        items.extend(response.json())
        if "next" not in response.links:
            return items
        response = http.get(response.links["next"]["url"], headers=headers)


def integrity(database_url: str) -> str:
    connection = sqlite3.connect(str(make_url(database_url).database))
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def test_every_answered_write_survives_a_sigkill(tmp_path: Path, database_url: str) -> None:
    answered = Answered()
    stop = threading.Event()
    with serve(tmp_path, database_url) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        owner = register(http)
        headers = bearer(create_key(http, owner, name="instrumented-agent"))
        agent = create_agent(http, headers)
        for _ in range(WRITERS):
            created = http.post("/api/sessions", json={"agentId": agent["id"]}, headers=headers)
            answered.turns[created.json()["id"]] = []
        clients = [
            threading.Thread(target=write_turns, args=(server.url, headers, session_id, answered, stop))
            for session_id in answered.turns
        ]
        clients.append(threading.Thread(target=churn_keys, args=(server.url, headers, answered, stop)))
        for thread in clients:
            thread.start()
        time.sleep(RUN_SECONDS)
        server.process.kill()  # SIGKILL while the clients are mid-request
        server.process.wait(timeout=10)
        stop.set()
        for thread in clients:
            thread.join(timeout=10)
        assert not any(thread.is_alive() for thread in clients)
        first_log = server.log()

    assert answered.failures == [], answered.failures[:3]
    assert sum(len(turns) for turns in answered.turns.values()) >= WRITERS, "the clients wrote nothing"
    assert answered.created_keys, "the key client created nothing"
    if is_sqlite(database_url):
        assert integrity(database_url) == "ok"

    with serve(tmp_path, database_url) as restarted, httpx.Client(base_url=restarted.url, timeout=10) as http:
        for session_id, turn_ids in answered.turns.items():
            response = http.get(f"/api/sessions/{session_id}", headers=headers)
            assert response.status_code == 200, response.text
            stored = [turn["id"] for turn in response.json()["turns"]]
            # Every answered turn, in the order it was answered; at most the one in flight besides.
            assert [turn_id for turn_id in stored if turn_id in set(turn_ids)] == turn_ids
            assert len(stored) - len(turn_ids) in (0, 1), (len(stored), len(turn_ids))

        listed = {key["id"]: key for key in list_all(http, "/api/org/keys", headers, includeRevoked="true")}
        assert set(answered.created_keys) <= set(listed)
        for key_id, raw in answered.revoked_keys.items():
            assert listed[key_id]["revokedAt"] is not None
            assert_unauthorized(http.get("/api/auth/me", headers=bearer(raw)), "api_key_revoked")
        kept = [raw for key_id, raw in answered.created_keys.items() if key_id not in answered.revoked_keys]
        for raw in kept[:-1]:  # the last one's revocation may have been in flight
            assert http.get("/api/auth/me", headers=bearer(raw)).status_code == 200
    assert "Traceback" not in first_log + restarted.log()
    if is_sqlite(database_url):
        assert integrity(database_url) == "ok"
