"""GET /api/ready: 503 while the database, or Redis when configured, cannot be reached; 200 otherwise. And it never
holds up the server: a dependency that accepts connections and never answers is given up on after a short
timeout, in a thread, while every other request is served."""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from provenant import readiness
from provenant.app import create_app
from provenant.config import Settings
from tests.servers import free_port

pytestmark = pytest.mark.both_databases

REDIS_URL = "redis://127.0.0.1:6379/0"


class Relay:
    """A TCP relay to ``target`` on a port of its own, which the test can cut (connections refused and dropped)
    or make silent (connections accepted, never answered): a dependency going away and coming back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = "up"
        self.accepted = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            self._open.append(client)
            if self.mode == "down":
                client.close()
            elif self.mode == "up":
                upstream = socket.create_connection(self.target)
                self._open.append(upstream)
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()
            # "silent": kept open, never answered

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.close()

    def set(self, mode: str) -> None:
        self.mode = mode
        if mode != "up":  # what was open goes too
            for connection in self._open:
                with suppress(OSError):
                    connection.close()
            self._open.clear()

    def close(self) -> None:
        self._listener.close()
        self.set("down")


@contextmanager
def relay(target: tuple[str, int]) -> Iterator[Relay]:
    running = Relay(target)
    try:
        yield running
    finally:
        running.close()


def ready(client: TestClient) -> httpx.Response:
    time.sleep(readiness.FRESH_FOR)  # past the last check's answer
    return client.get("/api/ready")


def test_ready_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/api/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}
    assert response.headers["cache-control"] == "no-store"


def test_redis_out_of_reach_is_not_ready_and_back_in_reach_is(settings: Settings) -> None:
    with relay(("127.0.0.1", 6379)) as redis_relay:
        app = create_app(settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{redis_relay.port}/0"}))
        with TestClient(app) as client:
            assert client.get("/api/ready").json()["checks"] == {"database": "ok", "redis": "ok"}
            redis_relay.set("down")
            response = ready(client)
            assert response.status_code == 503
            assert response.json()["code"] == "not_ready"
            assert response.json()["checks"] == {"database": "ok", "redis": "unreachable"}
            assert "redis" in response.json()["error"].lower()
            assert client.get("/api/health").status_code == 200  # liveness is not readiness
            redis_relay.set("up")
            assert ready(client).status_code == 200


def test_a_database_that_refuses_connections_is_not_ready(tmp_path: Path, dialect: str) -> None:
    port = free_port()  # nothing listens there
    if dialect == "postgresql":
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
    else:
        (tmp_path / "data" / "provenant.db").mkdir(parents=True)  # a directory where the file should be
        url = f"sqlite:///{tmp_path}/data/provenant.db"
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", database_url=url))) as client:
        response = client.get("/api/ready")
        assert response.status_code == 503
        assert response.json()["checks"] == {"database": "unreachable"}
        assert str(port) not in response.text and "postgres" not in response.text  # no address, no driver message
        assert client.get("/api/health").status_code == 200


def test_a_silent_dependency_is_given_up_on_in_time_while_other_requests_are_served(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 concurrent probes of a Redis that accepts and never answers: all 503 within the timeout (plus a wide
    margin), one connection attempt at a time rather than thirty, and /api/health answered meanwhile."""
    monkeypatch.setattr(readiness, "TIMEOUT", 5.0)  # room, on a loaded machine, for /api/health to answer within
    with relay(("127.0.0.1", 6379)) as redis_relay:
        redis_relay.set("silent")
        app = create_app(settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{redis_relay.port}/0"}))

        async def scenario() -> tuple[list[int], float, float]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                started = time.monotonic()
                probes = asyncio.gather(*(client.get("/api/ready") for _ in range(30)))
                await asyncio.sleep(0.2)
                health = await client.get("/api/health")
                assert health.status_code == 200
                answered_while_probing = not probes.done()
                statuses = [response.status_code for response in await probes]
                return statuses, answered_while_probing, time.monotonic() - started

        statuses, answered_while_probing, probes_took = asyncio.run(scenario())
    assert statuses == [503] * 30
    assert answered_while_probing  # the probes' wait never held up the event loop
    assert probes_took < readiness.TIMEOUT + 20  # given up on, not waited for
    assert redis_relay.accepted <= 2


def test_the_api_document_describes_it(client: TestClient) -> None:
    operation = client.get("/api/openapi.json").json()["paths"]["/api/ready"]["get"]
    assert set(operation["responses"]) == {"200", "503"}
    assert "security" not in operation
