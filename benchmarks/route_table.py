"""Server CPU per request with the routers' routes added flat (provenant.app.add_routes) and with
FastAPI's app.include_router(), in one process, alternating, on one SQLite file.

Run by hand:  .venv/bin/python benchmarks/route_table.py [--requests 1500] [--rounds 7]

CPU time (time.process_time) of the ASGI app alone, no network: on a shared machine it moves far
less than wrk's requests per second, and it is what the two designs differ in. Prints the median of
the rounds per design and what include_router costs in percent. The flat routes stay only while that
is at least 10 % on one of the measured endpoints (the rule for speed-ups in the README).
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

import provenant.app
from provenant import migrate
from provenant.config import Settings
from provenant.db import Database

ENDPOINTS = ("/api/auth/me", "/api/agents")


def _include_routers(app: FastAPI, routers: tuple[APIRouter, ...]) -> None:
    for router in routers:
        app.include_router(router)


def build_apps(settings: Settings) -> dict[str, FastAPI]:
    flat = provenant.app.create_app(settings)
    original = provenant.app.add_routes
    provenant.app.add_routes = _include_routers  # type: ignore[assignment]
    try:
        included = provenant.app.create_app(settings)
    finally:
        provenant.app.add_routes = original  # type: ignore[assignment]
    return {"flat routes": flat, "include_router": included}


def seed(app: FastAPI) -> str:
    """An org with 50 agents; returns an API key."""
    with TestClient(app) as client:
        body = {
            "name": "B",
            "email": "bench@example.com",
            "password": "benchmark-password",
            "orgName": "B",
            "orgSlug": "bench",
        }
        registered = client.post("/api/auth/register", json=body)
        assert registered.status_code == 201, registered.text
        auth = {"Authorization": "Bearer " + registered.json()["token"]}
        for i in range(50):
            client.post("/api/agents", json={"name": f"Agent {i}", "slug": f"agent-{i}"}, headers=auth)
        return str(client.post("/api/org/keys", json={"name": "bench"}, headers=auth).json()["key"])


async def request(app: FastAPI, path: str, headers: list[tuple[bytes, bytes]]) -> None:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    assert statuses == [200], statuses


async def measure(apps: dict[str, FastAPI], key: str, *, requests: int, rounds: int) -> None:
    headers = [(b"authorization", f"Bearer {key}".encode()), (b"host", b"127.0.0.1")]
    print(f"\nserver CPU per request, median of {rounds} rounds of {requests}\n")
    print("| endpoint | " + " | ".join(apps) + " | include_router costs |")
    print("|---|" + "---:|" * (len(apps) + 1))
    for path in ENDPOINTS:
        samples: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(rounds):
            for name, app in apps.items():  # alternating, so drift in the machine hits both alike
                started = time.process_time()
                for _ in range(requests):
                    await request(app, path, headers)
                samples[name].append((time.process_time() - started) / requests * 1e6)
        flat, included = (statistics.median(samples[name]) for name in apps)
        print(f"| {path} | {flat:.0f} µs | {included:.0f} µs | {100 * (included - flat) / flat:+.1f} % |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="provenant-routes-"))
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'provenant.db'}")
    database = Database(settings.resolved_database_url)
    migrate.upgrade(database)  # as `provenant serve` does before it serves
    database.dispose()
    apps = build_apps(settings)
    key = seed(apps["flat routes"])
    asyncio.run(measure(apps, key, requests=args.requests, rounds=args.rounds))


if __name__ == "__main__":
    main()
