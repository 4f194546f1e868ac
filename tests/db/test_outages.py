"""The database or Redis away for a moment: 503 ``busy`` with ``Retry-After`` (which both SDKs retry), never a
500; nothing acknowledged is lost, nothing is half-written, and service resumes as soon as it is back.

The PostgreSQL test restarts a cluster of its own (``initdb`` + ``pg_ctl`` on a spare port, as the postgres OS
user when run as root) under a real ``provenant serve`` and a few writers: a second or two of load.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.pool import NullPool

from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database
from tests import databases
from tests.factories import PASSWORD, bearer, register, unique
from tests.servers import free_port, serve

WRITERS = 4
BATCH = 3  # turns a request
KINDS = {"POST agents", "POST sessions", "GET auth"}  # what each writer sends, round after round


class Cluster:
    """A PostgreSQL server of the test's own, in a scratch directory; stopped and removed afterwards."""

    def __init__(self, binaries: Path, directory: Path) -> None:
        self.binaries = binaries
        self.directory = directory
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", "data", "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")

    def _run(self, program: str, *arguments: str) -> None:
        # PostgreSQL refuses to run as root: then it runs as the postgres OS user, who owns the directory.
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        command = [*as_postgres, str(self.binaries / program), *arguments]
        subprocess.run(command, cwd=self.directory, check=True, capture_output=True, timeout=60)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        # fsync off: what is tested is a clean restart, which loses nothing committed either way.
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", action, "-D", "data", "-l", "log", "-w", "-o", options, *extra)

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self) -> None:
        """As an operator restarts it: sessions ended, a checkpoint, a stop and a start."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "immediate")


@pytest.fixture
def cluster(dialect: str) -> Iterator[Cluster]:
    found = sorted(glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(Path(path).parent.name))
    binaries = Path(found[-1]) if found else Path(shutil.which("initdb") or "/nonexistent").parent
    if not (binaries / "initdb").exists():
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed here")
    directory = Path(tempfile.mkdtemp(prefix="provenant-restart-"))  # pytest's tmp_path is root's alone
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    try:
        database = Cluster(binaries, directory)
        database.start()
        try:
            # Migrated here, where it may take its time on a loaded machine: the server's start then only checks.
            databases.migrated(database.url)
            yield database
        finally:
            database.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Answer:
    sent_at: float
    status: int | str  # a status, or the transport error's name
    what: str
    code: str | None = None
    retry_after: str | None = None


@dataclass
class Writer:
    """Creates agents and adds batches of turns to a session of its own, alternately, until told to stop."""

    url: str
    headers: dict[str, str]
    session_id: str
    answers: list[Answer] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)  # slugs acknowledged with a 201
    batches: list[str] = field(default_factory=list)  # batch names acknowledged with a 201

    def run(self, stop: threading.Event) -> None:
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=10) as http:
            number = 0
            while not stop.is_set():
                number += 1
                name = unique("batch" if number % 2 else "agent")
                if number % 2:
                    turns = [
                        {"role": "USER", "content": f"{name} {k}", "clientId": f"{name}.{k}"} for k in range(BATCH)
                    ]
                    self._send(http, name, "POST", f"/api/sessions/{self.session_id}/turns", turns, self.batches)
                else:
                    self._send(http, name, "POST", "/api/agents", {"name": name, "slug": name}, self.agents)
                self._send(http, "", "GET", "/api/auth/me", None, [])  # a read on the process's Reader

    def kinds_answered_since(self, moment: float) -> set[str]:
        """The kinds of request sent after ``moment`` and answered with a success."""
        return {answer.what for answer in list(self.answers) if answer.sent_at > moment and answer.status in (200, 201)}

    def _send(
        self, http: httpx.Client, name: str, method: str, path: str, body: object, acknowledged: list[str]
    ) -> None:
        sent_at = time.monotonic()
        what = f"{method} {path.split('/')[2]}"
        try:
            response = http.request(method, path, json=body)
        except httpx.TransportError as error:
            self.answers.append(Answer(sent_at, type(error).__name__, what))
            return
        code = response.json().get("code") if response.status_code >= 400 else None
        self.answers.append(Answer(sent_at, response.status_code, what, code, response.headers.get("Retry-After")))
        if response.status_code in (200, 201):
            acknowledged.append(name)


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the writers did not get their answers in time"
        time.sleep(0.02)


@pytest.mark.postgresql_only
def test_a_postgresql_restart_under_writers_answers_503_never_500_and_loses_nothing(
    cluster: Cluster, tmp_path: Path
) -> None:
    with serve(tmp_path, cluster.url) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        owner = register(http)
        agent = http.post("/api/agents", json={"name": "ingest", "slug": "ingest"}, headers=owner.headers).json()
        writers = []
        for _ in range(WRITERS):
            session = http.post("/api/sessions", json={"agentId": agent["id"]}, headers=owner.headers)
            writers.append(Writer(server.url, owner.headers, session.json()["id"]))
        stop = threading.Event()
        threads = [threading.Thread(target=writer.run, args=(stop,)) for writer in writers]
        for thread in threads:
            thread.start()
        try:
            # Under way: every writer has had each kind of request answered before the restart...
            wait_for(lambda: all(writer.kinds_answered_since(0) == KINDS for writer in writers))
            restarting = time.monotonic()
            cluster.restart()
            restarted = time.monotonic()
            # ... and after it (where a fixed second or two of writes cost as much CPU on a loaded machine).
            wait_for(lambda: all(writer.kinds_answered_since(restarted) == KINDS for writer in writers))
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        log = server.log()

    answers = [answer for writer in writers for answer in writer.answers]
    statuses: dict[str, dict[int | str, int]] = {}
    for answer in answers:
        counted = statuses.setdefault(answer.what, {})
        counted[answer.status] = counted.get(answer.status, 0) + 1
    summary = f"{statuses}; restart took {restarted - restarting:.2f} s"
    assert all(answer.status in (200, 201, 503) for answer in answers), summary  # no 500, no dropped connection
    refused = [answer for answer in answers if answer.status == 503]
    assert all(answer.code == "busy" and answer.retry_after == "1" for answer in refused), summary
    assert refused, f"no request met the restart, so this tested nothing: {summary}"
    assert "Traceback" not in log and "internal_error" not in log
    assert "database unreachable" in log  # what an operator sees in the log
    # Service resumed with the database: every request sent after the restart had returned succeeded.
    after = [answer for answer in answers if answer.sent_at > restarted]
    assert after and all(answer.status in (200, 201) for answer in after), summary
    assert {answer.what for answer in after} == KINDS, summary

    # Every acknowledged write is stored; nothing is half-written (a batch is all of its turns or none).
    engine = create_engine(cluster.url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            slugs = set(connection.execute(text("SELECT slug FROM agents")).scalars())
            client_ids = list(connection.execute(text("SELECT client_id FROM turns")).scalars())
    finally:
        engine.dispose()
    acknowledged_agents = {slug for writer in writers for slug in writer.agents}
    assert acknowledged_agents <= slugs
    stored_batches: dict[str, int] = {}
    for client_id in client_ids:
        batch = client_id.rsplit(".", 1)[0]
        stored_batches[batch] = stored_batches.get(batch, 0) + 1
    assert set(stored_batches.values()) == {BATCH}, "a batch of turns was stored in part"
    assert {batch for writer in writers for batch in writer.batches} <= set(stored_batches)


def test_redis_going_away_answers_503_busy_and_coming_back_resumes(tmp_path: Path, database_url: str) -> None:
    """The attempt counters live in Redis: while it is away a limit cannot be checked, which is a 503, not a
    500 and not a free pass; everything that does not need Redis goes on."""
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.skip("redis-server is not installed here")
    port = free_port()

    def start_redis() -> subprocess.Popen[bytes]:
        command = [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return process
            except OSError:
                time.sleep(0.05)
        process.kill()
        raise RuntimeError("redis-server did not start")

    redis_url = f"redis://127.0.0.1:{port}/0"
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, redis_url=redis_url)
    redis = start_redis()
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            owner = register(client)
            wrong = {"email": owner.email, "password": "not the password"}
            assert client.post("/api/auth/login", json=wrong).status_code == 401  # counted in Redis

            redis.terminate()
            redis.wait(timeout=10)
            for attempt in (
                client.post("/api/auth/login", json=wrong),
                client.post("/api/auth/login", json={"email": owner.email, "password": PASSWORD}),
                client.get("/api/auth/me", headers=bearer("pk_live_" + "x" * 40)),
            ):
                assert attempt.status_code == 503, attempt.text
                assert attempt.json()["code"] == "busy"
                assert attempt.headers["Retry-After"] == "1"
            assert client.get("/api/auth/me", headers=owner.headers).status_code == 200  # needs no Redis

            redis = start_redis()
            assert client.post("/api/auth/login", json=wrong).status_code == 401
            assert client.post("/api/auth/login", json={"email": owner.email, "password": PASSWORD}).status_code == 200
    finally:
        redis.kill()
        redis.wait(timeout=10)


@pytest.mark.postgresql_only
def test_a_connection_lost_at_commit_answers_503_through_every_middleware_and_stores_nothing(
    client: TestClient, database: Database
) -> None:
    """The one moment a request can lose its database after its work is done: the COMMIT. The answer is the
    same 503 as any other moment (not a 2xx, not a dropped connection), with the headers every answer has."""
    owner = register(client)
    engine = client.app.state.database.engine  # type: ignore[attr-defined]
    armed = True

    def lose_the_connection(connection: Connection) -> None:
        nonlocal armed
        if not armed:
            return
        armed = False
        pid = connection.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
        with database.engine.connect() as admin:
            # With a timeout, it returns once the session is gone. (Polling pg_stat_activity for it instead hung
            # whenever the first look still found it: a transaction reads that view once, then its snapshot.)
            gone = admin.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}).scalar()
            assert gone, "the session was not gone within 10 s"

    event.listen(engine, "commit", lose_the_connection)
    try:
        name = unique("agent")
        response = client.post("/api/agents", json={"name": name, "slug": name}, headers=owner.headers)
    finally:
        event.remove(engine, "commit", lose_the_connection)
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "busy"
    assert response.headers["Retry-After"] == "1"
    assert response.headers["X-Request-Id"]  # answered through the middlewares, as every answer is
    assert name not in [agent["slug"] for agent in client.get("/api/agents", headers=owner.headers).json()]
    assert client.post("/api/agents", json={"name": name, "slug": name}, headers=owner.headers).status_code == 201
