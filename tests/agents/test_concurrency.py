"""get-or-create under load: SDKs call it at start-up from many processes at once, and one agent results."""

import threading
from typing import Any

import httpx
import pytest

from tests.factories import audit_entries, key_headers, register
from tests.servers import LiveServer
from tests.shared_servers import (  # noqa: F401 - fixtures, found by pytest
    another_process_fixture,
    dialect_fixture,
    one_process_fixture,
    shared_database_url_fixture,
)

pytestmark = pytest.mark.both_databases  # unique-constraint races end as each database decides

CALLERS = 16


def race(urls: list[str], headers: dict[str, str], path: str, body: dict[str, Any]) -> list[httpx.Response]:
    """``CALLERS`` requests released together, each from its own thread and connection, dealt in turn to
    the servers at ``urls``."""
    start = threading.Barrier(CALLERS)
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def call(url: str) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            start.wait()
            response = http.post(path, json=body)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=call, args=(urls[caller % len(urls)],)) for caller in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def get_or_create_race(urls: list[str], *, rounds: int = 1) -> None:
    """Each round races for a new name; rounds make an overlap of the racers near certain."""
    with httpx.Client(base_url=urls[0], timeout=30) as http:
        owner = register(http)
        headers = key_headers(http, owner)

        for round_ in range(rounds):
            name = f"Support Bot {round_}"
            responses = race(urls, headers, "/api/agents/get-or-create", {"name": name})

            statuses = sorted(response.status_code for response in responses)
            assert statuses == [200] * (CALLERS - 1) + [201], [r.text for r in responses if r.status_code >= 300]
            (agent_id,) = {response.json()["id"] for response in responses}
            stored = [a for a in http.get("/api/agents", headers=headers).json() if a["name"] == name]
            assert [agent["id"] for agent in stored] == [agent_id]
            created = audit_entries(http, owner.headers, action="agent.create", resourceId=agent_id)
            assert len(created) == 1

        assert len(http.get("/api/agents", headers=headers).json()) == rounds
        assert len(audit_entries(http, owner.headers, action="agent.create")) == rounds


def create_race(urls: list[str]) -> None:
    with httpx.Client(base_url=urls[0], timeout=30) as http:
        owner = register(http)
        headers = key_headers(http, owner)

        responses = race(urls, headers, "/api/agents", {"name": "Support", "slug": "support"})

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201] + [409] * (CALLERS - 1), [r.text for r in responses if r.status_code >= 500]
        assert len(http.get("/api/agents", headers=headers).json()) == 1
        assert len(audit_entries(http, owner.headers, action="agent.create")) == 1


def test_racing_calls_to_one_server_process_create_exactly_one_agent(one_process: LiveServer) -> None:
    get_or_create_race([one_process.url])
    create_race([one_process.url])


def test_racing_calls_across_two_server_processes_create_exactly_one_agent(
    one_process: LiveServer, another_process: LiveServer
) -> None:
    """Half the callers go to each process: unlike `--workers N`, whose kernel may hand all sixteen
    connections to one worker, every race here is between processes."""
    get_or_create_race([one_process.url, another_process.url], rounds=3)
    create_race([one_process.url, another_process.url])
