"""What metrics cost a request: GET /api/auth/me with an API key, through the whole app (every middleware, the
key's lookup on SQLite), called in-process without a network, with PROVENANT_METRICS on and off.

Run by hand:  .venv/bin/python benchmarks/metrics_overhead.py [--requests 3000] [--rounds 7]

Rounds alternate off and on; each side reports its fastest round (the one least disturbed by other processes on
the machine), in microseconds of this process's CPU per request, and the difference. The whole request costs
about a millisecond here (httpx's in-process transport included), so a few microseconds vanish in the noise of a
shared machine: the middleware alone is measured too, around an ASGI app that answers at once.
"""

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from provenant import migrate
from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database


def make_app(data_dir: Path, *, metrics: bool) -> Any:
    settings = Settings(data_dir=data_dir, metrics=metrics)
    return create_app(settings)


async def drive(app: Any, key: str, requests: int) -> float:
    """CPU seconds per request, over ``requests`` sequential requests."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for _ in range(50):  # warm
            await client.get("/api/auth/me", headers=headers)
        started = time.process_time()
        for _ in range(requests):
            response = await client.get("/api/auth/me", headers=headers)
        spent = time.process_time() - started
    assert response.status_code == 200, response.text
    return spent / requests


async def _answer(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _send(message: Any) -> None:
    pass


async def _receive() -> Any:
    return {"type": "http.request", "body": b""}


def middleware_alone(calls: int) -> tuple[float, float]:
    """CPU seconds per call of the bare app, and of the same app inside the metrics middleware."""
    from starlette.routing import Route

    from provenant.metrics.prometheus import MetricsMiddleware

    route = Route("/api/auth/me", _answer)
    wrapped = MetricsMiddleware(_answer, templates={})

    async def run(app: Any) -> float:
        started = time.process_time()
        for _ in range(calls):
            await app({"type": "http", "method": "GET", "path": "/api/auth/me", "route": route}, _receive, _send)
        return (time.process_time() - started) / calls

    bare, measured = float("inf"), float("inf")
    for _ in range(5):
        bare = min(bare, asyncio.run(run(_answer)))
        measured = min(measured, asyncio.run(run(wrapped)))
    return bare, measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        database = Database(Settings(data_dir=data_dir).resolved_database_url)
        migrate.upgrade(database)
        database.dispose()
        with TestClient(make_app(data_dir, metrics=False)) as client:
            token = client.post(
                "/api/auth/register",
                json={
                    "name": "Bench",
                    "email": "bench@example.com",
                    "password": "a bench password 42",
                    "orgName": "B",
                    "orgSlug": "bench",
                },
            ).json()["token"]
            key = client.post("/api/org/keys", json={"name": "bench"}, headers={"Authorization": f"Bearer {token}"})
            key_value = key.json()["key"]
        apps = {False: make_app(data_dir, metrics=False), True: make_app(data_dir, metrics=True)}
        best = {False: float("inf"), True: float("inf")}
        for _ in range(args.rounds):
            for metrics in (False, True):
                best[metrics] = min(best[metrics], asyncio.run(drive(apps[metrics], key_value, args.requests)))
    off, on = best[False] * 1e6, best[True] * 1e6
    print(f"GET /api/auth/me with a key, in-process: metrics off {off:.0f} µs/request, on {on:.0f} µs/request")
    print(
        f"metrics cost {on - off:.0f} µs/request ({(on - off) / off:+.1%}); requests/s of one core: "
        f"{1e6 / off:,.0f} off, {1e6 / on:,.0f} on"
    )


if __name__ == "__main__":
    main()
