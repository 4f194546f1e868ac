"""Turns per second stored over an API key, what logging a turn costs an agent, and proof that none was lost.

Run by hand:  .venv/bin/python benchmarks/ingest.py [--seconds 5] [--writers 1,8] [--content-bytes 1000]

Starts `provenant serve` on a free loopback port with a fresh SQLite data directory (WAL, synchronous=FULL: every
201 is on disk), registers an org, creates a pk_live_ key and an agent, then measures in one run, `--seconds` per
phase, with 1 and with 8 writers (every writer in a session of its own):
  health              GET /api/health, for the server CPU of a request that does nothing
  one turn / request  POST /api/sessions/{id}/turns with one turn, the next once the previous was answered 201
  batches of 100      the same with a JSON array of 100 turns
  Python SDK          provenant_sdk in background mode: `with client.session(agent) as s: s.log_turn(...)`, one
                      client per writer thread; each writer logs 2,000 turns, waits for `client.flush()`, again
  TypeScript SDK      @provenant/sdk (compiled from sdks/typescript/src into a temporary directory) in node:
                      `client.session(agent).logTurn(...)`, `await client.flush()`, the same way
After every phase the turns of its sessions are counted in the database: stored must equal sent (answered 201,
or logged and not counted in the SDK's dropped turns), or the script exits 1.
Then, for each SDK: the agent's cost of one log_turn call (median and p99 wall time, in process) while the server
is up, slow (a proxy here holds every answer 200 ms) and down (nothing listening); and the server killed (SIGKILL)
mid-run and started again on the same port: every turn logged must be stored once, in the order logged.
Targets: batches >= 20x one turn per request with one writer; SDK background >= 10x; log_turn median <= 20 us
and p99 <= 200 us. An SDK that lacks background mode is reported as "not available".
"""

import argparse
import asyncio
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from auth_throughput import _free_port as free_port  # the same helper the other benchmark uses

try:
    from provenant_sdk import ProvenantClient
except ImportError:  # `pip install -e sdks/python` makes it importable
    ProvenantClient = None  # type: ignore[assignment,misc]

ROOT = Path(__file__).resolve().parent.parent
TS_SDK = ROOT / "sdks" / "typescript"
TEXT = "the order shipped yesterday and the customer asks when it will arrive at the depot "
BATCH = 100
SDK_CHUNK = 2000  # turns a writer logs before it waits for flush(): well inside the SDKs' 10,000-turn bound
COST_CALLS = 20_000
SLOW_SECONDS = 0.2
TARGETS = {"batches of 100": 20.0, "Python SDK": 10.0, "TypeScript SDK": 10.0}
COST_TARGETS_US = {"median": 20.0, "p99": 200.0}


def content(size: int, n: int) -> str:
    prefix = f"turn {n}: "
    return (prefix + TEXT * (size // len(TEXT) + 1))[:size]


def turn(size: int, n: int) -> dict[str, Any]:
    return {
        "role": "USER" if n % 2 == 0 else "ASSISTANT",
        "content": content(size, n),
        "inputTokens": 120,
        "outputTokens": 48,
        "latencyMs": 800,
    }


# --- the server ---------------------------------------------------------------------------------------------


class Server:
    """`provenant serve` on a fixed port and data directory, so that it can be killed and started again."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PROVENANT_DATA_DIR": str(self.data_dir), "PROVENANT_LOG_LEVEL": "warning"}
        for name in ("PROVENANT_DATABASE_URL", "PROVENANT_JWT_SECRET"):
            env.pop(name, None)  # SQLite in the data directory, with the server's own pragmas
        command = [sys.executable, "-m", "provenant", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.exit("provenant serve did not start")
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and its child processes so far (Linux /proc)."""
        assert self.process is not None
        parents: dict[int, int] = {}
        ticks: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(stat.parent.name)] = int(fields[1])
            ticks[int(stat.parent.name)] = int(fields[11]) + int(fields[12])
        total = 0
        for process, used in ticks.items():
            ancestor = process
            while ancestor not in (0, 1, self.process.pid) and ancestor in parents:
                ancestor = parents[ancestor]
            if ancestor == self.process.pid:
                total += used
        return total / os.sysconf("SC_CLK_TCK")

    def stored(self, session_ids: list[str]) -> list[tuple[str, str, str | None]]:
        """(session id, content, clientId) of every stored turn of those sessions, each session in order."""
        marks = ",".join("?" * len(session_ids))
        columns = "session_id, content, client_id"
        query = f"SELECT {columns} FROM turns WHERE session_id IN ({marks}) ORDER BY session_id, seq"  # noqa: S608
        with sqlite3.connect(self.data_dir / "provenant.db") as db:
            return [(sid, json.loads(text), client_id) for sid, text, client_id in db.execute(query, session_ids)]


@dataclass
class Org:
    base: str
    key: str
    agent_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def new_sessions(self, count: int, label: str) -> list[str]:
        with httpx.Client(base_url=self.base, headers=self.auth, timeout=30) as http:
            ids = []
            for i in range(count):
                response = http.post("/api/sessions", json={"agentId": self.agent_id, "externalId": f"{label}-{i}"})
                response.raise_for_status()
                ids.append(response.json()["id"])
            return ids


def register(base: str) -> Org:
    with httpx.Client(base_url=base, timeout=30) as http:
        body = {
            "name": "Bench",
            "email": "bench@example.com",
            "password": "benchmark-password",
            "orgName": "Bench",
            "orgSlug": "bench",
        }
        registered = http.post("/api/auth/register", json=body)
        registered.raise_for_status()
        jwt = {"Authorization": f"Bearer {registered.json()['token']}"}
        created = http.post("/api/org/keys", json={"name": "ingest-benchmark"}, headers=jwt)
        created.raise_for_status()
        key = created.json()["key"]
        agent = http.post(
            "/api/agents/get-or-create", json={"name": "Ingest bench"}, headers={"Authorization": f"Bearer {key}"}
        )
        agent.raise_for_status()
        return Org(base, key, agent.json()["id"])


@contextmanager
def slow_proxy(upstream_port: int, delay: float) -> Iterator[str]:
    """A loopback TCP proxy to the server that holds every chunk of its answers for ``delay`` seconds."""

    async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter, hold: float) -> None:
        try:
            while data := await source.read(65536):
                if hold:
                    await asyncio.sleep(hold)
                target.write(data)
                await target.drain()
        except OSError:
            pass  # either side went away: so does the other
        finally:
            target.close()

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        await asyncio.gather(pipe(client_reader, server_writer, 0), pipe(server_reader, client_writer, delay))

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    proxy = asyncio.run_coroutine_threadsafe(asyncio.start_server(handle, "127.0.0.1", 0), loop).result(10)
    try:
        yield f"http://127.0.0.1:{proxy.sockets[0].getsockname()[1]}"
    finally:
        loop.call_soon_threadsafe(proxy.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


# --- throughput phases ------------------------------------------------------------------------------------


@dataclass
class Phase:
    mode: str
    writers: int
    seconds: float = 0.0
    sent: int = 0
    server_cpu_seconds: float = 0.0
    session_ids: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stored: int | None = None
    unavailable: str | None = None

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_threads(phase: Phase, server: Server, work: Callable[[int, float], None], seconds: float) -> None:
    """One thread per writer, started together; ``work(writer, deadline)`` until the deadline."""
    ready = threading.Barrier(phase.writers + 1, timeout=120)
    deadline = [0.0]

    def body(writer: int) -> None:
        ready.wait()
        try:
            work(writer, deadline[0])
        except Exception as exc:  # every failure is reported at the end
            phase.failures.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=body, args=(writer,)) for writer in range(phase.writers)]
    for thread in threads:
        thread.start()
    cpu_before = server.cpu_seconds()
    began = time.perf_counter()
    deadline[0] = began + seconds
    ready.wait()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - began
    phase.server_cpu_seconds = server.cpu_seconds() - cpu_before


def http_phase(server: Server, org: Org, mode: str, writers: int, args: argparse.Namespace) -> Phase:
    phase = Phase(mode, writers)
    per_request = {"health": 0, "one turn / request": 1, "batches of 100": BATCH}[mode]
    if per_request:
        phase.session_ids = org.new_sessions(writers, f"{mode}-{writers}")
    lock = threading.Lock()

    def work(writer: int, deadline: float) -> None:
        with httpx.Client(base_url=org.base, headers=org.auth, timeout=30) as http:
            n = 0
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                if not per_request:
                    http.get("/api/health").raise_for_status()
                else:
                    turns = [turn(args.content_bytes, n + i) for i in range(per_request)]
                    body: Any = turns if mode == "batches of 100" else turns[0]
                    response = http.post(f"/api/sessions/{phase.session_ids[writer]}/turns", json=body)
                    if response.status_code != 201:
                        raise RuntimeError(f"{response.status_code} {response.text[:200]}")
                with lock:
                    phase.latencies.append(time.perf_counter() - started)
                    phase.sent += max(per_request, 1)
                n += per_request

    run_threads(phase, server, work, args.seconds)
    return phase


def python_sdk_unavailable() -> str | None:
    if ProvenantClient is None:
        return "provenant_sdk is not importable"
    if not all(hasattr(ProvenantClient, name) for name in ("session", "flush", "dropped_turns")):
        return "provenant_sdk has no background mode (session/log_turn/flush)"
    return None


def python_sdk_phase(server: Server, org: Org, writers: int, args: argparse.Namespace) -> Phase:
    phase = Phase("Python SDK", writers, unavailable=python_sdk_unavailable())
    if phase.unavailable:
        return phase
    lock = threading.Lock()
    phase.session_ids = [""] * writers

    def work(writer: int, deadline: float) -> None:
        with ProvenantClient(base_url=org.base, api_key=org.key) as client:
            logged = 0
            with client.session(org.agent_id, external_id=f"python-sdk-{writers}-{writer}") as session:
                while time.perf_counter() < deadline:
                    for n in range(logged, logged + SDK_CHUNK):
                        body = turn(args.content_bytes, n)
                        session.log_turn(
                            body["role"],
                            body["content"],
                            input_tokens=body["inputTokens"],
                            output_tokens=body["outputTokens"],
                            latency_ms=body["latencyMs"],
                        )
                    logged += SDK_CHUNK
                    if not client.flush(timeout=120):
                        raise RuntimeError("flush timed out")
            phase.session_ids[writer] = session.id
            if client.dropped_turns:
                raise RuntimeError(f"{client.dropped_turns} turns dropped")
            with lock:
                phase.sent += logged

    run_threads(phase, server, work, args.seconds)
    return phase


# --- the TypeScript SDK, driven by a node script ------------------------------------------------------------

NODE_DRIVER = r"""
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
const job = JSON.parse(process.argv[2]);
const { ProvenantClient } = await import(job.sdk);
const text = 'the order shipped yesterday and the customer asks when it will arrive at the depot ';
const turn = (n) => ({
  role: n % 2 === 0 ? 'USER' : 'ASSISTANT',
  content: (`turn ${n}: ` + text.repeat(Math.ceil(job.contentBytes / text.length) + 1)).slice(0, job.contentBytes),
  inputTokens: 120, outputTokens: 48, latencyMs: 800,
});
const client = (options = {}) => new ProvenantClient({ baseUrl: job.baseUrl, apiKey: job.apiKey, ...options });
const result = {};
if (job.mode === 'probe') {
  const proto = ProvenantClient.prototype;
  result.methods = ['session', 'flush', 'logTurn'].filter((name) => typeof proto[name] === 'function');
} else if (job.mode === 'throughput') {
  const deadline = performance.now() + job.seconds * 1000;
  const writers = Array.from({ length: job.writers }, async (_, w) => {
    const c = client();
    const session = c.session(job.agentId, { externalId: `typescript-sdk-${job.writers}-${w}` });
    let logged = 0;
    while (performance.now() < deadline) {
      for (let n = logged; n < logged + job.chunk; n++) session.logTurn(turn(n));
      logged += job.chunk;
      if (!(await c.flush({ timeout: 120_000 }))) throw new Error('flush timed out');
    }
    await session.end();
    await c.shutdown();
    return { id: session.id, logged, dropped: c.droppedTurns };
  });
  result.writers = await Promise.all(writers);
} else if (job.mode === 'cost') {
  const c = client({ maxQueuedTurns: job.calls });  // room for every call: "down" measures queueing, not dropping
  const session = c.session(job.agentId);
  const samples = new Float64Array(job.calls);
  for (let i = 0; i < job.calls; i++) {
    const t = turn(i);
    const started = process.hrtime.bigint();
    session.logTurn(t);
    samples[i] = Number(process.hrtime.bigint() - started) / 1000;
    if (i % 50 === 49) await tick();  // an agent does other work between turns: the event loop runs
  }
  await c.shutdown({ timeout: 2000 });
  samples.sort();
  const at = (q) => samples[Math.min(job.calls - 1, Math.floor(q * job.calls))];
  Object.assign(result, { median: at(0.5), p99: at(0.99) });
} else if (job.mode === 'steady') {
  const c = client({ flushTimeout: 120_000 });
  const session = c.session(job.agentId, { externalId: 'typescript-sdk-kill-restart' });
  for (let n = 0; n < job.count; n++) {
    session.logTurn({ role: 'USER', content: `turn ${n}` });
    await sleep(job.pauseMs);
  }
  const delivered = await c.flush();
  await session.end();
  await c.shutdown();
  Object.assign(result, { id: session.id, logged: job.count, dropped: c.droppedTurns, delivered });
}
console.log(JSON.stringify(result));
"""


class NodeSdk:
    """@provenant/sdk compiled from its current source into ``directory``; ``run`` drives it with a job."""

    def __init__(self, directory: Path) -> None:
        self.driver = directory / "driver.mjs"
        self.driver.write_text(NODE_DRIVER)
        self.index = directory / "sdk" / "index.js"
        self.unavailable = self._compile(directory / "sdk")

    def _compile(self, out: Path) -> str | None:
        tsc = TS_SDK / "node_modules" / ".bin" / "tsc"
        if shutil.which("node") is None:
            return "node is not installed"
        if not tsc.exists():
            return "sdks/typescript has no node_modules (npm ci)"
        options = ["--declaration", "false", "--declarationMap", "false", "--sourceMap", "false"]
        command = [str(tsc), "-p", str(TS_SDK / "tsconfig.json"), "--outDir", str(out), *options]
        compiled = subprocess.run(command, capture_output=True, text=True)
        if compiled.returncode != 0 or not self.index.exists():
            return f"the TypeScript SDK does not compile: {compiled.stdout[-300:]}"
        (out / "package.json").write_text('{"type": "module"}')  # the compiled files are ES modules
        if "session" not in self.run({"mode": "probe"}, check=False).get("methods", []):
            return "@provenant/sdk has no background mode (client.session/logTurn/flush)"
        return None

    def run(self, job: dict[str, Any], *, check: bool = True, timeout: float = 600) -> dict[str, Any]:
        payload = json.dumps({"sdk": self.index.as_uri(), **job})
        done = subprocess.run(["node", str(self.driver), payload], capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            if check:
                raise RuntimeError(f"node driver failed: {done.stderr[-500:]}")
            return {}
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def typescript_sdk_phase(node: NodeSdk, server: Server, org: Org, writers: int, args: argparse.Namespace) -> Phase:
    phase = Phase("TypeScript SDK", writers, unavailable=node.unavailable)
    if phase.unavailable:
        return phase
    job = {
        "mode": "throughput",
        "baseUrl": org.base,
        "apiKey": org.key,
        "agentId": org.agent_id,
        "writers": writers,
        "seconds": args.seconds,
        "chunk": SDK_CHUNK,
        "contentBytes": args.content_bytes,
    }
    cpu_before = server.cpu_seconds()
    began = time.perf_counter()
    try:
        result = node.run(job)
    except (RuntimeError, subprocess.TimeoutExpired) as failed:
        phase.failures.append(str(failed))
        return phase
    # Includes node's start (about 0.1 s): a little in the SDK's disfavour.
    phase.seconds = time.perf_counter() - began
    phase.server_cpu_seconds = server.cpu_seconds() - cpu_before
    for writer in result["writers"]:
        phase.session_ids.append(writer["id"])
        phase.sent += writer["logged"]
        if writer["dropped"]:
            phase.failures.append(f"{writer['dropped']} turns dropped")
    return phase


# --- what log_turn costs the agent --------------------------------------------------------------------------


def python_log_turn_cost(base_url: str, agent_id: str, key: str, content_bytes: int) -> tuple[float, float]:
    samples = []
    client = ProvenantClient(base_url=base_url, api_key=key, max_queued_turns=COST_CALLS)
    try:
        with client.session(agent_id) as session:
            for n in range(COST_CALLS):
                body = turn(content_bytes, n)
                started = time.perf_counter_ns()
                session.log_turn(body["role"], body["content"], latency_ms=800, output_tokens=48)
                samples.append((time.perf_counter_ns() - started) / 1000)
                if n % 50 == 49:
                    time.sleep(0.002)  # an agent does other work between turns; the sender runs meanwhile
    finally:
        client.close(timeout=2)
    samples.sort()
    return statistics.median(samples), samples[int(0.99 * len(samples))]


def log_turn_costs(server: Server, org: Org, node: NodeSdk, args: argparse.Namespace) -> list[tuple[str, str, Any]]:
    rows: list[tuple[str, str, Any]] = []
    with slow_proxy(server.port, SLOW_SECONDS) as slow_url:
        cases = [
            ("up", org.base),
            (f"slow (+{SLOW_SECONDS * 1000:.0f} ms)", slow_url),
            ("down", f"http://127.0.0.1:{free_port()}"),
        ]
        for name, url in cases:
            if python_sdk_unavailable():
                rows.append(("Python", name, python_sdk_unavailable()))
            else:
                rows.append(("Python", name, python_log_turn_cost(url, org.agent_id, org.key, args.content_bytes)))
            if node.unavailable:
                rows.append(("TypeScript", name, node.unavailable))
            else:
                job = {"mode": "cost", "baseUrl": url, "apiKey": org.key, "agentId": org.agent_id, "calls": COST_CALLS,
                       "contentBytes": args.content_bytes}  # fmt: skip
                result = node.run(job)
                rows.append(("TypeScript", name, (result["median"], result["p99"])))
    return rows


# --- the server killed mid-run ------------------------------------------------------------------------------


@dataclass
class Survival:
    sdk: str
    logged: int = 0
    stored: int = 0
    in_order: bool = False
    duplicates: int = 0
    dropped: int = 0
    unavailable: str | None = None
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.unavailable is None and not self.failure and self.in_order and self.stored == self.logged


def kill_and_restart(server: Server, run_agent: Callable[[], tuple[str, int, int]], sdk: str) -> Survival:
    """``run_agent`` logs 2 turns every ms or so for about 3 s; the server is killed at 1 s, back at 2 s."""
    outcome: list[tuple[str, int, int]] = []
    errors: list[str] = []

    def agent() -> None:
        try:
            outcome.append(run_agent())
        except Exception as exc:  # reported below
            errors.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=agent)
    thread.start()
    time.sleep(1.0)
    server.kill()
    time.sleep(1.0)
    server.start()
    thread.join()
    survival = Survival(sdk)
    if errors or not outcome:
        survival.failure = errors[0] if errors else "no result"
        return survival
    session_id, survival.logged, survival.dropped = outcome[0]
    stored = [text for _, text, _ in server.stored([session_id])]
    survival.stored = len(stored)
    survival.duplicates = len(stored) - len(set(stored))
    survival.in_order = stored == [f"turn {n}" for n in range(survival.logged)]
    return survival


def python_survival(server: Server, org: Org) -> Survival:
    if python_sdk_unavailable():
        return Survival("Python", unavailable=python_sdk_unavailable())

    def run_agent() -> tuple[str, int, int]:
        count = 1500
        with ProvenantClient(base_url=org.base, api_key=org.key) as client:
            with client.session(org.agent_id, external_id="python-sdk-kill-restart") as session:
                for n in range(count):
                    session.log_turn("USER", f"turn {n}")
                    time.sleep(0.002)
            if not client.flush(timeout=120):
                raise RuntimeError("flush timed out")
            return session.id, count, client.dropped_turns

    return kill_and_restart(server, run_agent, "Python")


def typescript_survival(server: Server, org: Org, node: NodeSdk) -> Survival:
    if node.unavailable:
        return Survival("TypeScript", unavailable=node.unavailable)

    def run_agent() -> tuple[str, int, int]:
        job = {"mode": "steady", "baseUrl": org.base, "apiKey": org.key, "agentId": org.agent_id, "count": 1200,
               "pauseMs": 2}  # fmt: skip
        result = node.run(job)
        return result["id"], result["logged"], result["dropped"]

    return kill_and_restart(server, run_agent, "TypeScript")


# --- the run ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each throughput phase")
    parser.add_argument("--writers", default="1,8", help="comma-separated writer counts")
    parser.add_argument("--content-bytes", type=int, default=1000, help="size of each turn's text")
    args = parser.parse_args()
    writer_counts = [int(count) for count in args.writers.split(",")]

    work_dir = Path(tempfile.mkdtemp(prefix="provenant-ingest-"))
    server = Server(work_dir / "data")
    phases: list[Phase] = []
    try:
        server.start()
        org = register(server.url)
        node = NodeSdk(work_dir)
        for writers in writer_counts:
            for mode in ("health", "one turn / request", "batches of 100"):
                phases.append(http_phase(server, org, mode, writers, args))
            phases.append(python_sdk_phase(server, org, writers, args))
            phases.append(typescript_sdk_phase(node, server, org, writers, args))
        for phase in phases:
            if phase.session_ids and not phase.unavailable:
                phase.stored = len(server.stored([sid for sid in phase.session_ids if sid]))
        costs = log_turn_costs(server, org, node, args)
        survivals = [python_survival(server, org), typescript_survival(server, org, node)]
    finally:
        server.stop()
        shutil.rmtree(work_dir, ignore_errors=True)

    problems = report(phases, costs, survivals, args)
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    print("\nOK: every phase stored exactly what it sent; every target met.")


def report(
    phases: list[Phase], costs: list[tuple[str, str, Any]], survivals: list[Survival], args: argparse.Namespace
) -> list[str]:
    problems: list[str] = []
    cpu_model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        "unknown CPU",
    )  # fmt: skip
    print(
        f"\nSQLite (WAL, synchronous=FULL), one server process, loopback; {os.cpu_count()} CPUs ({cpu_model}), "
        f"load average {os.getloadavg()[0]:.1f}; {args.seconds:g} s per phase, {args.content_bytes}-byte turns, "
        "each writer in its own session.\n'vs one/request': turns/s over one turn per request with as many writers, "
        "in this run. 'server CPU': CPU time of the server per turn (per request for health).\n"
    )
    print("| client | writers | turns/s | vs one/request | server CPU ms/turn | p50 ms | p99 ms | sent | stored |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    reference = {p.writers: p.rate for p in phases if p.mode == "one turn / request"}
    for phase in phases:
        if phase.unavailable:
            print(f"| {phase.mode} | {phase.writers} | not available: {phase.unavailable} | | | | | | |")
            continue
        ratio = phase.rate / reference[phase.writers] if reference.get(phase.writers) else float("nan")
        unit = "req/s" if phase.mode == "health" else ""
        latency = phase.mode in ("health", "one turn / request", "batches of 100")
        p50 = f"{phase.percentile_ms(0.5):.2f}" if latency else ""
        p99 = f"{phase.percentile_ms(0.99):.2f}" if latency else ""
        cpu = 1000 * phase.server_cpu_seconds / max(phase.sent, 1)
        stored = "" if phase.stored is None else f"{phase.stored:,}"
        versus = "" if phase.mode == "health" else f"{ratio:.1f}x"
        print(
            f"| {phase.mode} | {phase.writers} | {phase.rate:,.0f} {unit} | {versus} | "
            f"{cpu:.3f} | {p50} | {p99} | {phase.sent:,} | {stored} |"
        )
        problems += [f"{phase.mode}, {phase.writers}: {failure}" for failure in phase.failures[:3]]
        if phase.stored is not None and phase.stored != phase.sent:
            problems.append(f"{phase.mode}, {phase.writers}: stored {phase.stored} of {phase.sent} sent")
        target = TARGETS.get(phase.mode)
        if target and phase.writers == 1 and ratio < target:
            problems.append(f"{phase.mode} with one writer: {ratio:.1f}x one turn per request, target {target:g}x")

    print(f"\nWhat one log_turn call costs the agent, in process ({COST_CALLS:,} calls, a pause every 50):\n")
    print("| SDK | server | median µs | p99 µs |")
    print("|---|---|---:|---:|")
    for sdk, case, value in costs:
        if isinstance(value, str):
            print(f"| {sdk} | {case} | not available: {value} | |")
            continue
        median, p99 = value
        print(f"| {sdk} | {case} | {median:.1f} | {p99:.1f} |")
        if median > COST_TARGETS_US["median"] or p99 > COST_TARGETS_US["p99"]:
            problems.append(f"log_turn ({sdk}, server {case}): median {median:.1f} µs, p99 {p99:.1f} µs")

    print("\nThe server killed (SIGKILL) 1 s into an agent's run and started again 1 s later:\n")
    print("| SDK | logged | stored | in order | duplicates | dropped |")
    print("|---|---:|---:|---|---:|---:|")
    for survival in survivals:
        if survival.unavailable:
            print(f"| {survival.sdk} | not available: {survival.unavailable} | | | | |")
            continue
        if survival.failure:
            problems.append(f"kill and restart ({survival.sdk}): {survival.failure}")
        elif not survival.ok:
            problems.append(f"kill and restart ({survival.sdk}): stored {survival.stored} of {survival.logged}")
        in_order = "yes" if survival.in_order else "NO"
        print(
            f"| {survival.sdk} | {survival.logged:,} | {survival.stored:,} | {in_order} | {survival.duplicates} | "
            f"{survival.dropped} |"
        )
    return problems


if __name__ == "__main__":
    main()
