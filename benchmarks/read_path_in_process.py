"""Server CPU per request of the read path's endpoints, the ASGI app called directly (no HTTP), for this checkout
and another, alternating.

Run by hand:  .venv/bin/python benchmarks/read_path_in_process.py --compare OLD_SRC [--requests 3000] [--rounds 4]

Each round starts one process per checkout (``PYTHONPATH=OLD_SRC`` for the other), in turn, first one then the
other; a process seeds an org (an OWNER, an API key, 50 agents) on a SQLite file of its own, then calls the app
``--requests`` times per endpoint, yielding to the event loop after each call as a server would, and reports
the process time per call. On a shared machine this moves far less than requests per second over HTTP, and it
is where a change to the app shows first; auth_throughput.py then says what it is worth over HTTP.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENDPOINTS = ("health", "me (API key)", "me (JWT)", "agents x50 (API key)")


def measure(requests: int) -> dict[str, float]:
    """In this process: µs of process time per request, per endpoint."""
    from fastapi.testclient import TestClient
    from route_table import request, seed

    import provenant.app
    from provenant import migrate
    from provenant.config import Settings
    from provenant.db import Database

    data_dir = Path(tempfile.mkdtemp(prefix="provenant-in-process-"))
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'provenant.db'}")
    database = Database(settings.resolved_database_url)
    migrate.upgrade(database)
    database.dispose()
    app = provenant.app.create_app(settings)
    key = seed(app)
    with TestClient(app) as client:
        login = {"email": "bench@example.com", "password": "benchmark-password"}
        jwt = client.post("/api/auth/login", json=login).json()["token"]
    calls = dict(
        zip(
            ENDPOINTS,
            (("/api/health", None), ("/api/auth/me", key), ("/api/auth/me", jwt), ("/api/agents", key)),
            strict=True,
        )
    )

    async def run() -> dict[str, float]:
        costs = {}
        for name, (path, credential) in calls.items():
            headers = [(b"host", b"127.0.0.1")]
            if credential:
                headers.append((b"authorization", f"Bearer {credential}".encode()))
            for _ in range(100):  # warm up
                await request(app, path, headers)
            started = time.process_time()
            for _ in range(requests):
                await request(app, path, headers)
                await asyncio.sleep(0)  # the loop's turn, as between a server's requests (key use is written there)
            costs[name] = (time.process_time() - started) / requests * 1e6
        return costs

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare", metavar="OLD_SRC", help="the src directory of the checkout to compare with")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # one process's part
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.requests)))
        return
    if not args.compare:
        parser.error("--compare OLD_SRC is required")
    versions = {"before": str(Path(args.compare).resolve()), "after": None}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
    for round_ in range(args.rounds):
        order = list(versions) if round_ % 2 == 0 else list(reversed(versions))
        for name in order:
            env = dict(os.environ)
            if versions[name]:
                env["PYTHONPATH"] = os.pathsep.join(filter(None, (versions[name], env.get("PYTHONPATH"))))
            command = [sys.executable, __file__, "--measure", "--requests", str(args.requests)]
            output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
            results[name].append(json.loads(output.strip().splitlines()[-1]))
    print(f"\nµs of process time per request, median of {args.rounds} rounds of {args.requests}, alternating\n")
    print("| endpoint | before | after | change |")
    print("|---|---:|---:|---:|")
    for endpoint in ENDPOINTS:
        before, after = (statistics.median(run[endpoint] for run in results[name]) for name in versions)
        print(f"| {endpoint} | {before:.1f} | {after:.1f} | {100 * (after - before) / before:+.1f} % |")


if __name__ == "__main__":
    main()
