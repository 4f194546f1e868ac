"""`provenant doctor`: what the server would use, whether each thing answers, which secrets are set (never their
values), and a non-zero exit when something is wrong."""

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from provenant import cli
from provenant.config import get_settings
from tests.servers import free_port

SECRET = "a-jwt-secret-that-must-never-be-printed-0123456789"


def doctor(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> tuple[int, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        cli.main(["doctor"])
        code = 0
    except SystemExit as exit_:
        code = 1 if exit_.code else 0
        print(exit_.code)
    finally:
        get_settings.cache_clear()
    captured = capsys.readouterr()
    return code, captured.out + captured.err


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough of SMTP for a client to greet it, ask for a NOOP and leave."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        for line in self.rfile:
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250-test\r\n250 8BITMIME\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@contextmanager
def smtp_server() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.both_databases
def test_all_well_exits_zero_and_names_secrets_without_their_values(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, database_url: str
) -> None:
    with smtp_server() as smtp_port:
        code, output = doctor(
            monkeypatch,
            capsys,
            {
                "PROVENANT_DATA_DIR": str(tmp_path / "data"),
                "PROVENANT_DATABASE_URL": database_url,
                "PROVENANT_JWT_SECRET": SECRET,
                "PROVENANT_REDIS_URL": "redis://127.0.0.1:6379/0",
                "PROVENANT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
                "PROVENANT_PUBLIC_URL": "https://provenant.example.com",  # links in emails need it
            },
        )
    assert code == 0, output
    assert "FAIL" not in output
    assert "ok    database" in output and "ok    redis" in output and "ok    smtp" in output
    assert "the latest" in output  # the schema is at this version's head
    assert "PROVENANT_JWT_SECRET is set" in output
    assert SECRET not in output


def test_what_cannot_be_reached_fails_and_passwords_are_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    closed = free_port()  # nothing listens on it
    code, output = doctor(
        monkeypatch,
        capsys,
        {
            "PROVENANT_DATA_DIR": str(tmp_path / "data"),
            "PROVENANT_DATABASE_URL": f"postgresql+psycopg://provenant:db-pass-1234@127.0.0.1:{closed}/provenant",
            "PROVENANT_REDIS_URL": f"redis://:redis-pass-5678@127.0.0.1:{closed}/0",
            "PROVENANT_SMTP_URL": f"smtp://mailer:smtp-pass-9012@127.0.0.1:{closed}",
            "PROVENANT_PUBLIC_URL": "https://provenant.example.com",
            "PROVENANT_GITHUB_CLIENT_SECRET": "init-password-3456",
        },
    )
    assert code == 1
    for what in ("database", "redis", "smtp"):
        assert f"FAIL  {what}" in output, output
    assert "3 problem(s)" in output
    for secret in ("db-pass-1234", "redis-pass-5678", "smtp-pass-9012", "init-password-3456"):
        assert secret not in output
    assert "provenant:***@" in output and "mailer:***@" in output
    assert "PROVENANT_GITHUB_CLIENT_SECRET is set" in output


def test_invalid_configuration_exits_non_zero_saying_which_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, output = doctor(
        monkeypatch, capsys, {"PROVENANT_DATA_DIR": str(tmp_path), "PROVENANT_JWT_SECRET": "short-secret"}
    )
    assert code == 1
    assert "PROVENANT_JWT_SECRET" in output and "short-secret" not in output


def test_an_unwritable_data_directory_is_a_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, output = doctor(monkeypatch, capsys, {"PROVENANT_DATA_DIR": str(blocker / "data")})
    assert code == 1
    assert "FAIL  data directory" in output
