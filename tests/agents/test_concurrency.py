"""get-or-create under load: SDKs call it at start-up from many processes at once, and one agent results."""

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import audit_entries, key_headers, register
from tests.servers import LiveServer, serve

pytestmark = pytest.mark.both_databases  # unique-constraint races end as each database decides

CALLERS = 16
WORKERS = 4


@pytest.fixture
def four_workers(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """`provenant serve --workers 4`: the racing requests really run at once, in separate processes."""
    with serve(tmp_path / "workers", database_url, workers=WORKERS) as server:
        yield server


def race(url: str, headers: dict[str, str], path: str, body: dict[str, Any]) -> list[httpx.Response]:
    """``CALLERS`` requests released together, each from its own thread and connection."""
    start = threading.Barrier(CALLERS)
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def call() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            start.wait()
            response = http.post(path, json=body)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=call) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def get_or_create_race(url: str, *, rounds: int = 1) -> None:
    """Each round races for a new name; rounds make an overlap of the racers near certain."""
    with httpx.Client(base_url=url, timeout=30) as http:
        owner = register(http)
        headers = key_headers(http, owner)

        for round_ in range(rounds):
            name = f"Support Bot {round_}"
            responses = race(url, headers, "/api/agents/get-or-create", {"name": name})

            statuses = sorted(response.status_code for response in responses)
            assert statuses == [200] * (CALLERS - 1) + [201], [r.text for r in responses if r.status_code >= 300]
            (agent_id,) = {response.json()["id"] for response in responses}
            stored = [a for a in http.get("/api/agents", headers=headers).json() if a["name"] == name]
            assert [agent["id"] for agent in stored] == [agent_id]
            created = audit_entries(http, owner.headers, action="agent.create", resourceId=agent_id)
            assert len(created) == 1

        assert len(http.get("/api/agents", headers=headers).json()) == rounds
        assert len(audit_entries(http, owner.headers, action="agent.create")) == rounds


def create_race(url: str) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:
        owner = register(http)
        headers = key_headers(http, owner)

        responses = race(url, headers, "/api/agents", {"name": "Support", "slug": "support"})

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201] + [409] * (CALLERS - 1), [r.text for r in responses if r.status_code >= 500]
        assert len(http.get("/api/agents", headers=headers).json()) == 1
        assert len(audit_entries(http, owner.headers, action="agent.create")) == 1


def test_racing_calls_to_one_server_process_create_exactly_one_agent(live_server: LiveServer) -> None:
    get_or_create_race(live_server.url)
    create_race(live_server.url)


def test_racing_calls_across_four_server_processes_create_exactly_one_agent(four_workers: LiveServer) -> None:
    get_or_create_race(four_workers.url, rounds=3)
    create_race(four_workers.url)
