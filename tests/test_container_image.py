"""The container image, run as a deployment runs it: against PostgreSQL and Redis, as a user other than root,
stopped by SIGTERM.

scripts/test builds it (scripts/container-image) in the background from the start of the run, and points
PROVENANT_IMAGE_BUILD_STATUS at the file where the build's exit status appears; this module waits for it (it runs
last, tests/scheduling.py). Run alone, the module builds the image itself, where podman can be installed (root).
"""

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from provenant_sdk import ProvenantClient
from sqlalchemy import create_engine, text

from tests import databases, factories
from tests.servers import free_port

pytestmark = pytest.mark.postgresql_only

ROOT = Path(__file__).parents[1]
IMAGE = "localhost/provenant:test"
PODMAN = ["podman", "--runtime", "/usr/sbin/runc", "--cgroup-manager", "cgroupfs"]
RUN_FLAGS = ["--network", "host", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
REDIS_URL = os.environ.get("PROVENANT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BUILD_WAIT = 15 * 60  # seconds: on a machine that makes the base image first, the build takes a few minutes


@pytest.fixture(scope="module")
def image() -> str:
    if os.environ.get("PROVENANT_SKIP_IMAGE") == "1":
        pytest.skip("PROVENANT_SKIP_IMAGE=1: no container image in this run")
    status_file = os.environ.get("PROVENANT_IMAGE_BUILD_STATUS")
    if status_file:
        status_path = Path(status_file)
        deadline = time.monotonic() + BUILD_WAIT
        while not status_path.exists() or not status_path.read_text().strip():
            assert time.monotonic() < deadline, "the image build (scripts/container-image) did not finish in time"
            time.sleep(1)
        log = Path(os.environ.get("PROVENANT_IMAGE_BUILD_LOG", "/dev/null")).read_text(errors="replace")
        assert status_path.read_text().strip() == "0", f"scripts/container-image failed:\n{log}"
        return IMAGE
    if shutil.which("podman") is None and os.geteuid() != 0:
        pytest.skip("needs podman (scripts/container-image installs it as root; scripts/test runs it)")
    subprocess.run(["bash", str(ROOT / "scripts" / "container-image")], check=True)
    return IMAGE


def podman(*arguments: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PODMAN, *arguments], capture_output=True, text=True, check=check, timeout=timeout)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with databases.postgres_database() as url:  # a database of its own, dropped afterwards
        yield url


def test_the_image_serves_a_deployment_and_stops_on_sigterm(image: str, postgres_url: str) -> None:
    port = free_port()
    name = f"provenant-test-{uuid.uuid4().hex[:10]}"
    base_url = f"http://127.0.0.1:{port}"
    podman(
        "run", "--detach", "--name", name, *RUN_FLAGS,
        "--env", f"PROVENANT_DATABASE_URL={postgres_url}",
        "--env", f"PROVENANT_REDIS_URL={REDIS_URL}",
        "--env", f"PROVENANT_REDIS_PREFIX={name}:",
        "--env", "PROVENANT_METRICS=true",
        "--env", f"PROVENANT_HEALTHCHECK_URL={base_url}/api/ready",
        image, "serve", "--host", "127.0.0.1", "--port", str(port),
    )  # fmt: skip
    try:
        _wait_until_ready(base_url, name)
        with httpx.Client(base_url=base_url, timeout=30) as client:
            owner = factories.register(client)
            key = factories.create_key(client, owner, name="image-test")
            # The Python SDK, as an agent would use it: a session and its turns, sent in the background.
            with ProvenantClient(base_url=base_url, api_key=key) as sdk:
                agent = sdk.agents.get_or_create("Image test bot")
                with sdk.session(agent["id"], external_id="image-conv") as session:
                    session.log_turn("USER", "Where is my order?", input_tokens=7)
                    session.log_turn("ASSISTANT", "It ships today.", output_tokens=5)
            # The dashboard: its page and the scripts it loads, from the installed package.
            page = client.get("/")
            assert page.status_code == 200 and "<script" in page.text
            assert client.get("/app.js").status_code == 200
            assert client.get("/api/docs").status_code == 200
            assert "provenant_turns_ingested_total 2.0" in client.get("/metrics").text
            # Key use is written at a key's first use, then at most every 30 s, and at shutdown: these five
            # requests, just before the stop, are written by the SIGTERM's shutdown.
            counted_before = _key_requests(postgres_url)
            for _ in range(5):
                assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200

        assert podman("exec", name, "id", "-u").stdout.strip() not in ("", "0")  # not root
        assert podman("healthcheck", "run", name, check=False).returncode == 0  # the image's own HEALTHCHECK

        started = time.monotonic()
        podman("stop", "--time", "10", name, timeout=30)  # SIGTERM, then SIGKILL after 10 s
        stopped_in = time.monotonic() - started
        exit_code = podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        logs = podman("logs", name).stdout + podman("logs", name).stderr
        assert stopped_in < 10 and exit_code == "0", f"stopped in {stopped_in:.1f} s with {exit_code}:\n{logs}"
    finally:
        podman("rm", "--force", name, check=False)

    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            turns = connection.execute(
                text("SELECT t.role FROM turns t JOIN sessions s ON s.id = t.session_id WHERE s.external_id = :e"),
                {"e": "image-conv"},
            ).all()
    finally:
        engine.dispose()
    assert sorted(role for (role,) in turns) == ["ASSISTANT", "USER"]
    assert _key_requests(postgres_url) >= counted_before + 5  # and the SDK's uses not yet written before them


def _key_requests(postgres_url: str) -> int:
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT coalesce(sum(requests), 0) FROM api_key_usage")).scalar_one())
    finally:
        engine.dispose()


def _wait_until_ready(base_url: str, name: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/api/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        state = podman("inspect", "--format", "{{.State.Status}}", name, check=False).stdout.strip()
        if state not in ("created", "running", "configured"):
            break
        time.sleep(0.5)
    logs = podman("logs", name, check=False)
    pytest.fail(f"the container did not become ready ({state}):\n{logs.stdout}{logs.stderr}")
