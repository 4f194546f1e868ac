"""`provenant serve` in a subprocess, spoken to over real HTTP on loopback."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    log_path: Path
    data_dir: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def serve(
    directory: Path, database_url: str, *, workers: int = 1, env: Mapping[str, str] | None = None
) -> Iterator[LiveServer]:
    """A server on a free port with its data directory and log under ``directory``; stopped on exit.
    ``env`` adds to (or overrides) the server's environment."""
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
    environment.update(env or {})
    command = [sys.executable, "-m", "provenant", "serve", "--port", str(port), "--workers", str(workers)]
    directory.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", log_path, data_dir, process)
    try:
        deadline = time.monotonic() + 30
        while not _healthy(server.url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"provenant serve did not start:\n{server.log()}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
