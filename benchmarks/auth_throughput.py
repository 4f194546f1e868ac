"""How much authentication costs: wrk against `provenant serve` on loopback, ratios to /api/health.

Run by hand (needs Debian's `wrk`):  .venv/bin/python benchmarks/auth_throughput.py [--duration 10]
                                     [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Starts a server on a fresh SQLite data directory (or a fresh schema of that PostgreSQL database, dropped
afterwards), registers an org, creates an API key and 50 agents,
then measures, in one run with 32 connections each:
  GET /api/health            no auth: the ceiling of this server
  GET /api/auth/me           with an API key, and with a JWT: the cost of authentication itself
  GET /api/agents            50 agents, with an API key
Targets: /api/auth/me with a key >= 50% of /api/health; /api/agents with a key >= 25%.
"""

import argparse
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url

TARGETS = {"me (API key)": 0.50, "agents x50 (API key)": 0.25}


@dataclass
class Result:
    label: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(label: str, url: str, token: str | None, *, duration: int, connections: int) -> Result:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if token:
        command[1:1] = ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Result(
        label,
        rps,
        _ms(*p50.groups()),  # type: ignore[union-attr]
        _ms(*p99.groups()),  # type: ignore[union-attr]
        int(errors.group(1)) if errors else 0,
    )


@contextmanager
def fresh_schema(postgres_url: str) -> Iterator[str]:
    """A database URL whose connections use a new, empty schema of ``postgres_url``; dropped on exit."""
    schema = f"bench_{secrets.token_hex(6)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", metavar="URL", help="measure on PostgreSQL instead of SQLite")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    if args.postgres:
        with fresh_schema(args.postgres) as database_url:
            run(args, database_url, "PostgreSQL")
    else:
        run(args, None, "SQLite")


def run(args: argparse.Namespace, database_url: str | None, store: str) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="provenant-bench-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PROVENANT_DATA_DIR": str(data_dir), "PROVENANT_LOG_LEVEL": "warning"}
    env.pop("PROVENANT_DATABASE_URL", None)
    if database_url:
        env["PROVENANT_DATABASE_URL"] = database_url
    server = subprocess.Popen(
        [sys.executable, "-m", "provenant", "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
    )
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(300):
                try:
                    if client.get("/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            body = {
                "name": "Bench",
                "email": "bench@example.com",
                "password": "benchmark-password",
                "orgName": "Bench",
                "orgSlug": "bench",
            }
            jwt = client.post("/api/auth/register", json=body).json()["token"]
            auth = {"Authorization": f"Bearer {jwt}"}
            key = client.post("/api/org/keys", json={"name": "bench"}, headers=auth).json()["key"]
            for i in range(50):
                created = client.post("/api/agents", json={"name": f"Agent {i}", "slug": f"agent-{i}"}, headers=auth)
                created.raise_for_status()

        def measure(label: str, path: str, token: str | None) -> Result:
            return run_wrk(label, base + path, token, duration=args.duration, connections=args.connections)

        results = [
            measure("health (no auth)", "/api/health", None),
            measure("me (API key)", "/api/auth/me", key),
            measure("me (JWT)", "/api/auth/me", jwt),
            measure("agents x50 (API key)", "/api/agents", key),
        ]
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(data_dir, ignore_errors=True)

    ceiling = results[0].requests_per_second
    print(f"\n{args.connections} connections, {args.duration} s each, {args.workers} worker(s), {store}\n")
    print("| endpoint | req/s | p50 ms | p99 ms | vs health | target |")
    print("|---|---:|---:|---:|---:|---|")
    failed = False
    for r in results:
        ratio = r.requests_per_second / ceiling
        target = TARGETS.get(r.label)
        verdict = ""
        if target is not None:
            ok = ratio >= target
            failed |= not ok
            verdict = f"≥ {target:.0%} {'met' if ok else 'MISSED'}"
        if r.non_2xx:
            verdict += f" ({r.non_2xx} non-2xx!)"
            failed = True
        print(
            f"| {r.label} | {r.requests_per_second:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {ratio:.0%} | {verdict} |"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
