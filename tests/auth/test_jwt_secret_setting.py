"""PROVENANT_JWT_SECRET must be at least 32 bytes: the server refuses to start with a shorter one."""

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from provenant import migrate
from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database
from tests.factories import bearer, register
from tests.servers import free_port

ADVICE = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
SHORT_SECRET = "abc-too-short-xyz"  # 17 bytes


@pytest.mark.parametrize("secret", ["", "abc", "x" * 31, "é" * 15], ids=["empty", "abc", "31 bytes", "30 bytes"])
def test_a_secret_shorter_than_32_bytes_is_refused_with_advice_and_not_echoed(tmp_path: Path, secret: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(data_dir=tmp_path, jwt_secret=secret)
    message = str(refused.value)
    assert "32 bytes" in message and ADVICE in message
    if secret:
        assert secret not in message


@pytest.mark.parametrize("secret", ["x" * 32, "é" * 16], ids=["32 ASCII bytes", "16 characters of 2 bytes"])
def test_a_secret_of_32_bytes_is_taken(tmp_path: Path, secret: str) -> None:
    assert Settings(data_dir=tmp_path, jwt_secret=secret).jwt_secret.get_secret_value() == secret


def _environment(tmp_path: Path, secret: str) -> dict[str, str]:
    return {
        **os.environ,
        "PROVENANT_DATA_DIR": str(tmp_path / "data"),
        "PROVENANT_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'provenant.db'}",
        "PROVENANT_JWT_SECRET": secret,
    }


def test_provenant_serve_refuses_to_start_with_a_short_secret(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "provenant", "serve", "--port", str(free_port())]
    finished = subprocess.run(command, env=_environment(tmp_path, SHORT_SECRET), capture_output=True, timeout=60)

    assert finished.returncode != 0
    output = (finished.stdout + finished.stderr).decode()
    assert "PROVENANT_JWT_SECRET" in output and "32 bytes" in output and ADVICE in output
    assert SHORT_SECRET not in output
    assert "Traceback" not in output


def test_a_32_byte_secret_signs_without_pyjwt_s_weak_key_warning(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "server.log"
    command = [sys.executable, "-m", "provenant", "serve", "--port", str(port)]
    environment = {**_environment(tmp_path, "s" * 32), "PYTHONWARNINGS": "default", "PROVENANT_LOG_LEVEL": "debug"}
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, env=environment, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        with httpx.Client(base_url=url, timeout=10) as http:
            owner = register(http)
            assert http.get("/api/auth/me", headers=bearer(owner.token)).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    log = log_path.read_text()
    assert "/api/auth/me" in log  # the log is the server's
    assert "InsecureKeyLengthWarning" not in log and "HMAC key" not in log


def test_create_app_signs_with_a_configured_secret_without_a_warning(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'data' / 'p.db'}", jwt_secret="s" * 32
    )
    (tmp_path / "data").mkdir()
    database = Database(settings.resolved_database_url)
    migrate.upgrade(database)
    database.dispose()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyJWT's InsecureKeyLengthWarning would fail the test
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            owner = register(client)
            assert client.get("/api/auth/me", headers=bearer(owner.token)).status_code == 200
