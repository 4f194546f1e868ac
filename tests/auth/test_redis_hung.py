"""A Redis that accepts connections and never answers must not freeze the server.

Before: the counters' Redis calls were synchronous on the event loop, each waiting out a one-second timeout
(and redis-py's retries): 30 bad keys froze every valid request for 30 s. Now they are awaited with a short
timeout, no retry, and answer 503 ``busy`` (a sign-in, a key with a rate limit too: a limit that cannot be
checked is not waived); requests that need no Redis (a valid key without a rate limit, a JWT) are served
meanwhile as fast as ever.
"""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database
from provenant.redis_client import TIMEOUT
from tests.factories import PASSWORD, bearer, create_key, register

pytestmark = pytest.mark.serial  # it bounds answer times (only to catch a freeze, with a wide margin)

BAD_KEYS = 30
# A valid request normally takes milliseconds; the freeze it catches took seconds to tens of seconds. The
# margin is for a loaded two-core test machine.
FREEZE = 1.5


@contextmanager
def silent_listener() -> Iterator[int]:
    """A TCP server that accepts every connection and never sends a byte: a hung Redis. Its port."""
    server = socket.create_server(("127.0.0.1", 0), backlog=256)
    server.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in accepted:
            connection.close()
        server.close()


def test_valid_requests_stay_fast_while_bad_keys_wait_on_a_hung_redis(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", database_url=database_url))) as setup:
        owner = register(setup)
        key = create_key(setup, owner)
        response = setup.post(
            "/api/org/keys", json={"name": "limited", "rateLimitPerMinute": 100}, headers=owner.headers
        )
        limited = response.json()["key"]
    with silent_listener() as port:
        settings = Settings(
            data_dir=tmp_path / "data", database_url=database_url, redis_url=f"redis://127.0.0.1:{port}/0"
        )
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            bad = bearer("pk_live_" + "0" * 32)
            calls: list[Callable[[], httpx.Response]] = [
                lambda: client.get("/api/auth/me", headers=bad) for _ in range(BAD_KEYS)
            ]
            calls.append(lambda: client.post("/api/auth/login", json={"email": owner.email, "password": PASSWORD}))
            calls.append(lambda: client.get("/api/auth/me", headers=bearer(limited)))  # its count is in Redis
            latencies: list[float] = []
            with ThreadPoolExecutor(max_workers=len(calls)) as pool:
                started = time.monotonic()
                waiting = [pool.submit(call) for call in calls]
                while not all(future.done() for future in waiting):
                    for headers in (bearer(key), owner.headers):
                        before = time.monotonic()
                        assert client.get("/api/auth/me", headers=headers).status_code == 200
                        latencies.append(time.monotonic() - before)
                    time.sleep(0.05)
                answers = [future.result() for future in waiting]
                took = time.monotonic() - started

    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "busy"
        assert answer.headers["Retry-After"] == "1"
    assert len(latencies) >= 4, "the bad keys were answered before any valid request was timed"
    print(f"{len(latencies)} valid requests, slowest {max(latencies) * 1000:.0f} ms; the bad ones took {took:.1f} s")
    assert max(latencies) < FREEZE, f"a valid request took {max(latencies):.2f} s: the event loop was blocked"
    # Each waited one timeout, all at once: not one after the other, and not retried.
    assert took < TIMEOUT + 3 * FREEZE
