"""Turns per second ingested over an API key, and proof that none was lost.

Run by hand:  .venv/bin/python benchmarks/ingest.py [--seconds 5] [--writers 1,8] [--content-bytes 1000]

Starts `provenant serve` on a free port with a fresh SQLite data directory, registers an org, creates a
pk_live_ key, then, in one run, ingests turns for `--seconds` per phase:
  raw HTTP   one httpx.Client per writer (keep-alive), POST /api/sessions/{id}/turns
  SDK        one provenant_sdk.ProvenantClient per writer, client.add_turn(...)
each with 1 and with 8 concurrent writers (threads), every writer into a session of its own. Each writer
sends the next turn when the previous one was answered 201. Afterwards every session is read back and the
turns table counted directly: the stored count must equal the count answered 201, and no request may have
failed; otherwise the script exits 1.
"""

import argparse
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

try:
    from provenant_sdk import ProvenantClient
except ImportError:  # the SDK lives in sdks/python; `pip install -e sdks/python` makes it importable
    ProvenantClient = None  # type: ignore[assignment,misc]

TEXT = "the order shipped yesterday and the customer asks when it will arrive at the depot "


@dataclass
class Writer:
    session_id: str
    accepted: int = 0
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


@dataclass
class Phase:
    label: str
    writers: list[Writer]
    seconds: float
    server_cpu_seconds: float

    @property
    def accepted(self) -> int:
        return sum(writer.accepted for writer in self.writers)

    @property
    def failures(self) -> list[str]:
        return [failure for writer in self.writers for failure in writer.failures]

    def percentile_ms(self, fraction: float) -> float:
        latencies = sorted(latency for writer in self.writers for latency in writer.latencies)
        if not latencies:
            return float("nan")
        return 1000 * latencies[min(len(latencies) - 1, int(fraction * len(latencies)))]


def _server_cpu_seconds(pid: int) -> float:
    """User + system CPU of the server and its worker processes so far (Linux /proc)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        process = int(stat.parent.name)
        parents[process] = int(fields[1])
        ticks[process] = int(fields[11]) + int(fields[12])
    total = 0
    for process, used in ticks.items():
        ancestor = process
        while ancestor not in (0, 1, pid) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == pid:
            total += used
    return total / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _content(size: int, n: int) -> str:
    prefix = f"turn {n}: "
    return (prefix + TEXT * (size // len(TEXT) + 1))[:size]


Send = Callable[[str, int], None]


def run_phase(
    label: str,
    session_ids: list[str],
    seconds: float,
    connect: Callable[[], AbstractContextManager[Send]],
    server_pid: int,
) -> Phase:
    """One thread per session, started together; each sends turns until the deadline, the next one
    only after the previous was answered 201."""
    writers = [Writer(session_id) for session_id in session_ids]
    ready = threading.Barrier(len(writers) + 1, timeout=60)
    deadline = [0.0]

    def loop(writer: Writer) -> None:
        with connect() as send:
            ready.wait()
            n = 0
            while time.perf_counter() < deadline[0]:
                started = time.perf_counter()
                try:
                    send(writer.session_id, n)
                except Exception as exc:  # every failure is reported at the end
                    writer.failures.append(f"{type(exc).__name__}: {exc}")
                    return
                writer.latencies.append(time.perf_counter() - started)
                writer.accepted += 1
                n += 1

    threads = [threading.Thread(target=loop, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    cpu_before = _server_cpu_seconds(server_pid)
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    ready.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return Phase(label, writers, elapsed, _server_cpu_seconds(server_pid) - cpu_before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each phase")
    parser.add_argument("--writers", default="1,8", help="comma-separated writer counts")
    parser.add_argument("--content-bytes", type=int, default=1000, help="size of each turn's text")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()
    writer_counts = [int(count) for count in args.writers.split(",")]

    data_dir = Path(tempfile.mkdtemp(prefix="provenant-ingest-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PROVENANT_DATA_DIR": str(data_dir), "PROVENANT_LOG_LEVEL": "warning"}
    env.pop("PROVENANT_DATABASE_URL", None)
    env.pop("PROVENANT_JWT_SECRET", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "provenant", "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
    )
    phases: list[Phase] = []
    references: dict[int, Phase] = {}
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit("provenant serve did not start")
                time.sleep(0.1)
            registered = client.post(
                "/api/auth/register",
                json={
                    "name": "Bench",
                    "email": "bench@example.com",
                    "password": "benchmark-password",
                    "orgName": "Bench",
                    "orgSlug": "bench",
                },
            )
            registered.raise_for_status()
            jwt = {"Authorization": f"Bearer {registered.json()['token']}"}
            created_key = client.post("/api/org/keys", json={"name": "ingest-benchmark"}, headers=jwt)
            created_key.raise_for_status()
            key = created_key.json()["key"]
            auth = {"Authorization": f"Bearer {key}"}
            agent = client.post("/api/agents/get-or-create", json={"name": "Ingest bench"}, headers=auth)
            agent.raise_for_status()
            agent_id = agent.json()["id"]

            def new_sessions(count: int, label: str) -> list[str]:
                ids = []
                for i in range(count):
                    body = {"agentId": agent_id, "externalId": f"{label}-{i}"}
                    response = client.post("/api/sessions", json=body, headers=auth)
                    response.raise_for_status()
                    ids.append(response.json()["id"])
                return ids

            def turn(n: int) -> dict[str, Any]:
                return {
                    "role": "USER" if n % 2 == 0 else "ASSISTANT",
                    "content": _content(args.content_bytes, n),
                    "inputTokens": 120,
                    "outputTokens": 48,
                    "latencyMs": 800,
                }

            @contextmanager
            def health() -> Iterator[Send]:
                with httpx.Client(base_url=base, timeout=30) as http:

                    def send(_: str, n: int) -> None:
                        http.get("/api/health").raise_for_status()

                    yield send

            @contextmanager
            def raw_http() -> Iterator[Send]:
                with httpx.Client(base_url=base, headers=auth, timeout=30) as http:

                    def send(session_id: str, n: int) -> None:
                        response = http.post(f"/api/sessions/{session_id}/turns", json=turn(n))
                        if response.status_code != 201:
                            raise RuntimeError(f"{response.status_code} {response.text}")

                    yield send

            @contextmanager
            def python_sdk() -> Iterator[Send]:
                with ProvenantClient(base_url=base, api_key=key) as sdk:

                    def send(session_id: str, n: int) -> None:
                        body = turn(n)
                        sdk.add_turn(
                            session_id,
                            body["role"],
                            body["content"],
                            input_tokens=body["inputTokens"],
                            output_tokens=body["outputTokens"],
                            latency_ms=body["latencyMs"],
                        )

                    yield send

            modes: list[tuple[str, Callable[[], AbstractContextManager[Send]]]] = [("raw HTTP", raw_http)]
            if ProvenantClient is None:
                print("provenant_sdk is not importable: the SDK phases are skipped", file=sys.stderr)
            else:
                modes.append(("Python SDK", python_sdk))
            for count in writer_counts:
                no_sessions = ["-"] * count
                reference = run_phase(f"GET /api/health, {count}", no_sessions, args.seconds, health, server.pid)
                references[count] = reference
            for mode, connect in modes:
                for count in writer_counts:
                    label = f"{mode}, {count}"
                    sessions = new_sessions(count, label)
                    phases.append(run_phase(label, sessions, args.seconds, connect, server.pid))

            # Nothing lost: every session read back over the API, then the table counted underneath.
            lost = []
            for phase in phases:
                for writer in phase.writers:
                    stored = client.get(f"/api/sessions/{writer.session_id}", headers=auth).json()["turns"]
                    if len(stored) != writer.accepted:
                        lost.append(
                            f"{phase.label}: session {writer.session_id} stored {len(stored)} "
                            f"of {writer.accepted} accepted"
                        )
        with sqlite3.connect(data_dir / "provenant.db") as db:
            counted = db.execute("SELECT count(*) FROM turns").fetchone()[0]
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(data_dir, ignore_errors=True)

    sent = sum(phase.accepted for phase in phases)
    print(
        f"\nSQLite (WAL, synchronous=FULL), {args.workers} server worker(s), {os.cpu_count()} CPUs "
        f"(load average {os.getloadavg()[0]:.1f}), "
        f"{args.seconds:g} s per phase, {args.content_bytes}-byte turns, each writer in its own session.\n"
        "'vs health': turns/s over GET /api/health req/s with as many writers, measured in this run.\n"
        "'server CPU': CPU time of the server processes per request.\n"
    )
    print("| client | writers | turns/s | vs health | p50 ms | p99 ms | server CPU ms | accepted | failed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for phase in list(references.values()) + phases:
        mode, writers = phase.label.split(", ")
        rate = phase.accepted / phase.seconds
        ceiling = references[int(writers)]
        ratio = rate / (ceiling.accepted / ceiling.seconds)
        print(
            f"| {mode} | {writers} | {rate:,.0f} | {ratio:.0%} | "
            f"{phase.percentile_ms(0.5):.2f} | {phase.percentile_ms(0.99):.2f} | "
            f"{1000 * phase.server_cpu_seconds / max(phase.accepted, 1):.2f} | {phase.accepted:,} | "
            f"{len(phase.failures)} |"
        )
    print(f"\nturns answered 201: {sent:,}; turns stored (counted in the turns table): {counted:,}")

    failures = [failure for phase in phases for failure in phase.failures]
    problems = lost + failures[:10]
    if counted != sent:
        problems.append(f"stored {counted} turns but {sent} were answered 201")
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    print("OK: every accepted turn is stored, none failed.")


if __name__ == "__main__":
    main()
