"""Test servers forked from a process that has already imported them (``cheap_argon2_serve.py --forks``).

A server started as ``python tests/cheap_argon2_serve.py serve`` spends about 0.7 of its 0.8 CPU-seconds of
start-up importing FastAPI, SQLAlchemy, pydantic and the app, and a run starts well over a hundred. Each pytest
process keeps one fork server; a ``ForkedProcess`` is a server asked of it, and answers as the
``subprocess.Popen`` it replaces (``poll``, ``wait``, ``terminate``, ``kill``, ``returncode``).

Two kinds of server still start as processes of their own: those that hash with production parameters (they run
`python -m provenant` itself) and those with metrics on, because prometheus-client decides at import whether it
counts for several processes (``PROMETHEUS_MULTIPROC_DIR``, which `provenant serve` sets just before importing the
app), and the fork server has imported it already.
"""

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import IO

# Test servers hash as the in-process app does, with argon2-cffi's CHEAPEST parameters: that module says how and why.
CHEAP_ARGON2_SERVE = Path(__file__).with_name("cheap_argon2_serve.py")


class ForkServer:
    """The fork server of this pytest process: one request and its answer at a time, from any thread."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(CHEAP_ARGON2_SERVE), "--forks"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self._lock = threading.Lock()

    def ask(self, request: Mapping[str, object]) -> dict[str, int | None]:
        assert self._process.stdin is not None and self._process.stdout is not None
        with self._lock:
            self._process.stdin.write(json.dumps(request).encode() + b"\n")
            self._process.stdin.flush()
            answer = self._process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the fork server ended (exit status {self._process.wait()})")
        return dict(json.loads(answer))

    def close(self) -> None:
        stdin: IO[bytes] | None = self._process.stdin
        if stdin is not None:
            stdin.close()  # it stops the servers still running, then ends
        self._process.wait(timeout=30)


@cache
def fork_server() -> ForkServer:
    server = ForkServer()
    atexit.register(server.close)
    return server


class ForkedProcess:
    """A server forked by the fork server: its child, not ours, so its exit status comes from there."""

    def __init__(self, arguments: list[str], env: Mapping[str, str], log: Path) -> None:
        self.args = arguments
        self.returncode: int | None = None
        answer = fork_server().ask({"start": arguments, "env": dict(env), "cwd": str(Path.cwd()), "log": str(log)})
        pid = answer["pid"]
        assert pid is not None
        self.pid = pid

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = fork_server().ask({"poll": self.pid})["returncode"]
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(0.01)
        return code

    def send_signal(self, sig: int) -> None:
        # Until the fork server has been asked for its status, an exited server is a zombie, never another process.
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def forkable(env: Mapping[str, str]) -> bool:
    """Whether a server with this environment may be forked (the module's docstring says which may not)."""
    return env.get("PROVENANT_METRICS", "").strip().lower() in ("", "0", "false", "no", "off")
