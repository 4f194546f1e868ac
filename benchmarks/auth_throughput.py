"""What a read costs beside the physical reference: wrk against `provenant serve` and a bare Starlette list.

Run by hand (needs Debian's `wrk`):
    .venv/bin/python benchmarks/auth_throughput.py [--duration 10] [--rounds 3] [--connections 32] [--workers 1]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--compare OLD_SRC]

Starts `provenant serve` on a fresh SQLite data directory (or a fresh schema of that PostgreSQL database, dropped
afterwards), registers an org, creates an API key and 50 agents, and starts beside it `benchmarks/bare_list.py`:
a Starlette route with no middleware, no authentication and no database that answers those 50 agents, read once
at start, encoded again per request; served by uvicorn with the same options and workers. Then, each round,
32 connections each:
  GET /agents (bare)         the physical reference for a 50-item JSON list
  GET /api/health            no auth: the ceiling of this server
  GET /api/auth/me           with an API key, and with a JWT: the cost of authentication itself
  GET /api/agents            50 agents, with an API key
Each is reported as a ratio of the bare list and of health measured in the same round, with the server's CPU
per request (user + system time of the server's processes over the run / requests answered), as the median
of the rounds. Targets (issue 23): the agent list >= 0.5x the bare list, `me` with a key >= 0.7x health, with a
JWT >= 0.6x health, and p99 <= 5x p50 (meant for 128 connections with 2 workers).

--compare OLD_SRC also starts the code in OLD_SRC (a `src` directory of another checkout, e.g. from
`git archive main`) on a database of its own, and measures both in every round, alternating which goes first:
before/after figures from one session on a shared machine.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url

BENCHMARKS = Path(__file__).resolve().parent
BARE = "bare list x50"
HEALTH = "health"
# label -> (what it is compared with, the least ratio)
TARGETS = {"me (API key)": (HEALTH, 0.7), "me (JWT)": (HEALTH, 0.6), "agents x50 (API key)": (BARE, 0.5)}
MOST_P99_OVER_P50 = 5.0
# label, path, credential
APP_ENDPOINTS = (
    (HEALTH, "/api/health", None),
    ("me (API key)", "/api/auth/me", "key"),
    ("me (JWT)", "/api/auth/me", "jwt"),
    ("agents x50 (API key)", "/api/agents", "key"),
)
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float
    non_2xx: int


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    credentials: dict[str, str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _cpu_seconds(root: int) -> float:
    """User + system CPU of ``root`` and every process under it (uvicorn's workers), from /proc."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # gone meanwhile
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK)
    tree, total = {root}, 0.0
    for pid in sorted(stats):  # a child's pid is larger than its parent's, short of wrap-around
        parent, seconds = stats[pid]
        if pid == root or parent in tree:
            tree.add(pid)
            total += seconds
    return total


def run_wrk(server: Server, path: str, credential: str | None, *, duration: int, connections: int) -> Result:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", server.base + path]
    if credential:
        command[1:1] = ["-H", f"Authorization: Bearer {server.credentials[credential]}"]
    cpu_before = _cpu_seconds(server.process.pid)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu = _cpu_seconds(server.process.pid) - cpu_before
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Result(
        rps,
        _ms(*p50.groups()),  # type: ignore[union-attr]
        _ms(*p99.groups()),  # type: ignore[union-attr]
        cpu / max(requests, 1) * 1e6,
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


@contextmanager
def running(command: list[str], env: dict[str, str], port: int, ready_path: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, env=env)
    try:
        with httpx.Client(timeout=10) as client:
            for _ in range(600):
                try:
                    if client.get(f"http://127.0.0.1:{port}{ready_path}").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise RuntimeError(f"{command} did not answer")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def provenant(stack: ExitStack, src: str | None, postgres: str | None, workers: int) -> Iterator[Server]:
    data_dir = Path(tempfile.mkdtemp(prefix="provenant-bench-"))
    stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
    port = _free_port()
    env = {**os.environ, "PROVENANT_DATA_DIR": str(data_dir), "PROVENANT_LOG_LEVEL": "warning"}
    env.pop("PROVENANT_DATABASE_URL", None)
    if postgres:
        env["PROVENANT_DATABASE_URL"] = stack.enter_context(fresh_schema(postgres))
    if src:  # ahead of the installed package
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(Path(src).resolve()), env.get("PYTHONPATH"))))
    command = [sys.executable, "-m", "provenant", "serve", "--port", str(port), "--workers", str(workers)]
    with running(command, env, port, "/api/health") as process:
        server = Server(process, f"http://127.0.0.1:{port}", {})
        _seed(server)
        yield server


def _seed(server: Server) -> None:
    """An org, its OWNER's JWT, an API key and 50 agents."""
    with httpx.Client(base_url=server.base, timeout=30) as client:
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
    server.credentials.update(jwt=jwt, key=key)


@contextmanager
def bare_list(stack: ExitStack, agents: bytes, workers: int) -> Iterator[Server]:
    directory = Path(tempfile.mkdtemp(prefix="provenant-bare-"))
    stack.callback(shutil.rmtree, directory, ignore_errors=True)
    (directory / "agents.json").write_bytes(agents)
    port = _free_port()
    env = {**os.environ, "BARE_LIST_FILE": str(directory / "agents.json")}
    command = [sys.executable, "-m", "uvicorn", "bare_list:app", "--app-dir", str(BENCHMARKS), "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning", "--no-server-header"]
    with running(command, env, port, "/agents") as process:
        yield Server(process, f"http://127.0.0.1:{port}", {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint and round")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", metavar="URL", help="measure on PostgreSQL instead of SQLite")
    parser.add_argument("--compare", metavar="OLD_SRC", help="also measure the code in OLD_SRC, alternating")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    load_before = os.getloadavg()[0]
    with ExitStack() as stack:
        versions = {"after": None} if not args.compare else {"before": args.compare, "after": None}
        servers = {
            name: stack.enter_context(provenant(stack, src, args.postgres, args.workers))
            for name, src in versions.items()
        }
        some = next(iter(servers.values()))
        agents = httpx.get(some.base + "/api/agents", headers={"Authorization": f"Bearer {some.credentials['key']}"})
        assert len(json.loads(agents.content)) == 50
        bare = stack.enter_context(bare_list(stack, agents.content, args.workers))
        results = measure(args, servers, bare)
    store = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\n{args.connections} connections, {args.workers} worker(s), {store}, {args.rounds} round(s) of ", end="")
    print(f"{args.duration} s, medians; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after\n")
    sys.exit(0 if report(results, list(servers)) else 1)


Rounds = dict[str, dict[str, list[Result]]]  # version -> label -> one Result per round


def measure(args: argparse.Namespace, servers: dict[str, Server], bare: Server) -> Rounds:
    def wrk(server: Server, path: str, credential: str | None) -> Result:
        return run_wrk(server, path, credential, duration=args.duration, connections=args.connections)

    results: Rounds = defaultdict(lambda: defaultdict(list))
    for round_ in range(args.rounds):
        baseline = wrk(bare, "/agents", None)
        order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
        for version in order:
            results[version][BARE].append(baseline)
            for label, path, credential in APP_ENDPOINTS:
                result = wrk(servers[version], path, credential)
                results[version][label].append(result)
                print(
                    f"round {round_ + 1} {version:6} {label:22} {result.requests_per_second:8,.0f} req/s "
                    f"{result.cpu_us_per_request:6.0f} µs CPU (bare {baseline.requests_per_second:,.0f})",
                    file=sys.stderr,
                )
    return results


def report(results: Rounds, versions: list[str]) -> bool:
    print(
        "| version | endpoint | req/s | p50 ms | p99 ms | p99/p50 | server CPU µs/req | vs bare | vs health | target |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    met = True
    for version in versions:
        by_label = results[version]
        for label, rounds in by_label.items():
            if label == BARE and version != versions[0]:
                continue  # one server for every version: printed once
            ratios = {
                reference: statistics.median(
                    r.requests_per_second / ref.requests_per_second
                    for r, ref in zip(rounds, by_label[reference], strict=True)
                )
                for reference in (BARE, HEALTH)
            }
            tail = statistics.median(r.p99_ms / r.p50_ms for r in rounds)
            verdicts = []
            if label in TARGETS:
                reference, least = TARGETS[label]
                ok = ratios[reference] >= least
                verdicts.append(f"≥ {least}x {reference}: {'met' if ok else 'MISSED'}")
                met &= ok or version != versions[-1]
            if tail > MOST_P99_OVER_P50:
                verdicts.append(f"p99 > {MOST_P99_OVER_P50:.0f}x p50")
                met &= version != versions[-1] or label == BARE
            if failures := sum(r.non_2xx for r in rounds):
                verdicts.append(f"{failures} non-2xx!")
                met = False
            name = "" if label == BARE else version
            print(
                f"| {name} | {label} | {statistics.median(r.requests_per_second for r in rounds):,.0f} "
                f"| {statistics.median(r.p50_ms for r in rounds):.2f} "
                f"| {statistics.median(r.p99_ms for r in rounds):.2f} "
                f"| {tail:.1f} | {statistics.median(r.cpu_us_per_request for r in rounds):.0f} "
                f"| {ratios[BARE]:.2f} | {ratios[HEALTH]:.2f} | {'; '.join(verdicts)} |"
            )
    return met


if __name__ == "__main__":
    main()
