"""Real servers for the tests: the Provenant server in a subprocess, and a flaky proxy in a thread.

Nothing here is mocked; every request the SDK makes in a test crosses a real socket.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}
# `provenant serve` hashing passwords with argon2-cffi's CHEAPEST parameters, as the server's own tests run
# it: these tests register and sign in over and over, and nothing here depends on what a hash costs.
CHEAP_ARGON2_SERVE = Path(__file__).resolve().parents[3] / "tests" / "cheap_argon2_serve.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def provenant_server(data_dir: Path, jwt_secret: str) -> Iterator[str]:
    """`provenant serve` (with cheap argon2) on a free port with a fresh data directory; yields its base URL
    once healthy."""
    server = ServerProcess(data_dir, jwt_secret)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@dataclass
class ServerProcess:
    """`provenant serve` on one port and data directory, which a test may kill and start again."""

    data_dir: Path
    jwt_secret: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = dict(os.environ, PROVENANT_DATA_DIR=str(self.data_dir), PROVENANT_JWT_SECRET=self.jwt_secret)
        # Trusted CI tests run a stand-in CI provider on loopback (ci_provider.py), which the server fetches.
        env["PROVENANT_ALLOWED_ISSUER_HOSTS"] = "127.0.0.1"
        for name in ("PROVENANT_URL", "PROVENANT_API_KEY", "PROVENANT_DATABASE_URL"):
            env.pop(name, None)
        # Every test registers an org of its own, all from loopback: past the server's per-address limit.
        env.setdefault("PROVENANT_REGISTRATIONS_PER_IP", "1000000")
        log_path = self.data_dir / "server.log"
        serve = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command = [sys.executable, str(CHEAP_ARGON2_SERVE), *serve]
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        _wait_until_healthy(self.process, self.url, log_path)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as when a machine dies."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"provenant serve exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            response = httpx.get(f"{base_url}/api/health", timeout=1)
            if response.status_code == 200 and response.json() == {"status": "ok"}:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"provenant serve was not healthy within 60 s:\n{log_path.read_text()}")


@dataclass
class Hit:
    at: float
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FlakyProxy:
    """An HTTP server in a thread that plays a script of failures, then forwards to the real server.

    Each request takes the next action from ``script``: ``"503"``, ``"status:<code>[:<retry-after>]"``
    (answer that status with a JSON error), ``"429:<retry-after>"``, ``"drop"`` (read the request, close the
    socket without a word), ``"lose"`` (forward it, then close the socket instead of answering: the server did
    the work, the client never hears), ``"stall:<seconds>"``; then it forwards. ``only`` limits the script to
    requests whose path contains it (others are forwarded).
    """

    upstream: str
    script: list[str] = field(default_factory=list)
    only: str = ""
    hits: list[Hit] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_action(self, handler: BaseHTTPRequestHandler, body: bytes) -> str:
        with self._lock:
            self.hits.append(
                Hit(
                    time.monotonic(),
                    handler.command,
                    handler.path,
                    {k.lower(): v for k, v in handler.headers.items()},
                    body,
                )
            )
            if not self.script or self.only not in handler.path:
                return "forward"
            return self.script.pop(0)

    def hits_to(self, method: str, path_part: str) -> list[Hit]:
        with self._lock:
            return [hit for hit in self.hits if hit.method == method and path_part in hit.path]

    def bind(self) -> None:
        """Take a port without listening on it yet: connections to it are refused until `listen`."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self), bind_and_activate=False)
        self._server.daemon_threads = True
        self._server.server_bind()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def listen(self) -> None:
        assert self._server is not None
        self._server.server_activate()
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def start(self) -> FlakyProxy:
        self.bind()
        self.listen()
        return self

    def stop(self) -> None:
        if self._server is not None:
            if self._server.socket.fileno() != -1:
                self._server.shutdown()
            self._server.server_close()


def _handler_for(proxy: FlakyProxy) -> type[BaseHTTPRequestHandler]:
    upstream = urlsplit(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            action = proxy.next_action(self, body)
            if action == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if action == "lose":
                self._forward(body, answer=False)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if action.startswith("stall:"):
                time.sleep(float(action.split(":", 1)[1]))
                action = "forward"
            if action == "503":
                self._answer(503, b'{"error": "Try again later.", "code": "unavailable"}')
            elif action.startswith("status:"):
                status, _, retry_after = action.removeprefix("status:").partition(":")
                headers = {"Retry-After": retry_after} if retry_after else {}
                self._answer(int(status), b'{"error": "Scripted failure.", "code": "scripted"}', headers)
            elif action.startswith("429:"):
                retry_after = action.split(":", 1)[1]
                self._answer(
                    429, b'{"error": "Slow down.", "code": "rate_limited"}', {"Retry-After": retry_after}
                )
            else:
                self._forward(body)

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _forward(self, body: bytes, answer: bool = True) -> None:
            connection = http.client.HTTPConnection(
                upstream.hostname or "127.0.0.1", upstream.port, timeout=30
            )
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                connection.request(self.command, self.path, body=body or None, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                if not answer:
                    return
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            finally:
                connection.close()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return Handler
