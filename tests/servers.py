"""`provenant serve` in a subprocess, spoken to over real HTTP on loopback."""

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.forks import CHEAP_ARGON2_SERVE, ForkedProcess, forkable

# Below Linux's ephemeral range (32768-60999), where the kernel never hands a port to an outgoing
# connection or a bind to port 0: between the check here and the server's own bind, only another
# test server choosing at random could take it, and then the start is retried on another port.
_PORTS = range(20000, 32768)
_STARTS = 3


def free_port() -> int:
    while True:
        port = random.choice(_PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@dataclass
class LiveServer:
    url: str
    log_path: Path
    data_dir: Path
    process: subprocess.Popen[bytes] | ForkedProcess

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1) as http:
            while not _healthy(http, self.url):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise ServerDidNotStart(f"provenant serve did not start:\n{self.log()}")
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=10)


class ServerDidNotStart(RuntimeError):
    @property
    def port_was_taken(self) -> bool:
        return "address already in use" in str(self).lower()


def _healthy(http: httpx.Client, url: str) -> bool:
    try:
        return http.get(f"{url}/api/health").status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def started(
    directory: Path,
    database_url: str,
    *,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    production_argon2: bool = False,
) -> Iterator[LiveServer]:
    """A server process launched on a free port, not yet answering: for tests that start several at
    once (``serve`` waits for it). Its data directory and log are under ``directory``; stopped on exit.
    ``env`` adds to (or overrides) the server's environment. It hashes passwords with argon2-cffi's
    CHEAPEST parameters and is forked from a process that has imported it (tests/forks.py, which says when
    not), unless ``production_argon2``: then it is `python -m provenant serve` itself, for tests that
    measure the server under the production hashing load."""
    port = free_port()
    data_dir = directory / "live-data"
    log_path = directory / "server.log"
    environment = {
        **os.environ,
        "PROVENANT_DATA_DIR": str(data_dir),
        "PROVENANT_DATABASE_URL": database_url,
        "PROVENANT_LOG_LEVEL": "debug",
    }
    environment.pop("PROVENANT_JWT_SECRET", None)
    # Tests register an org of their own each, all from loopback: a module's shared server would reach the
    # registrations-per-address limit. Tests of that limit set it (in os.environ or ``env``).
    environment.setdefault("PROVENANT_REGISTRATIONS_PER_IP", "1000000")
    environment.update(env or {})
    arguments = ["serve", "--port", str(port), "--workers", str(workers)]
    directory.mkdir(parents=True, exist_ok=True)
    process: subprocess.Popen[bytes] | ForkedProcess
    if not production_argon2 and forkable(environment):
        log_path.write_bytes(b"")
        process = ForkedProcess(arguments, environment, log_path)
    else:
        launcher = ["-m", "provenant"] if production_argon2 else [str(CHEAP_ARGON2_SERVE)]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, *launcher, *arguments], env=environment, stdout=log, stderr=subprocess.STDOUT
            )
    server = LiveServer(f"http://127.0.0.1:{port}", log_path, data_dir, process)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def serve(
    directory: Path,
    database_url: str,
    *,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    production_argon2: bool = False,
) -> Iterator[LiveServer]:
    """A server answering on a free port, with its data directory and log under ``directory``; stopped on exit.
    ``env`` and ``production_argon2`` as for ``started``."""
    for attempt in range(1, _STARTS + 1):
        with started(directory, database_url, workers=workers, env=env, production_argon2=production_argon2) as server:
            try:
                server.wait_until_healthy()
            except ServerDidNotStart as failure:
                if failure.port_was_taken and attempt < _STARTS:
                    continue
                raise
            yield server
            return


@contextmanager
def two_processes(directory: Path, database_url: str) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two single-process servers on one database, as two machines behind a load balancer, and a client of
    each: the test chooses which process gets each request (``--workers N`` leaves that to the kernel, which
    may give one worker a whole run of fresh connections)."""
    with (
        serve(directory / "first", database_url) as first_server,
        serve(directory / "second", database_url) as second_server,
        httpx.Client(base_url=first_server.url, timeout=30) as first,
        httpx.Client(base_url=second_server.url, timeout=30) as second,
    ):
        yield first, second
