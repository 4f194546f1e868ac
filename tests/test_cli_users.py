"""``provenant users list`` and ``provenant users reset-password EMAIL``: the operator's way in for an OWNER
who is locked out; an unknown email is a clear message and a non-zero exit, never a traceback."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from provenant import cli
from provenant.auth.encryption import load_or_create_key
from provenant.config import Settings, get_settings
from provenant.db import Database
from provenant.email.outbox import Outbox
from provenant.models import OutboxEmail
from tests.factories import audit_entries, invite_and_accept, login, register

NEW_PASSWORD = "a much better passphrase"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[None]:
    """The CLI reads the same environment the server would (the test's database and data directory)."""
    monkeypatch.setenv("PROVENANT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("PROVENANT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PROVENANT_PUBLIC_URL", "https://provenant.example.com")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_users_list_shows_each_account_with_its_org_and_role(
    client: TestClient, environment: None, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = register(client, name="Olive")
    viewer = invite_and_accept(client, owner, "VIEWER", name="Vic")
    cli.main(["users", "list"])
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert out.splitlines()[0].split() == ["EMAIL", "NAME", "ORGANIZATION", "ROLE", "CREATED"]
    assert lines[owner.email][1:4] == ["Olive", owner.org["slug"], "OWNER"]
    assert lines[viewer.email][1:4] == ["Vic", owner.org["slug"], "VIEWER"]


def test_reset_password_prints_a_one_time_link_and_audits_it(
    client: TestClient, environment: None, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = register(client)
    cli.main(["users", "reset-password", owner.email.upper()])
    captured = capsys.readouterr()
    link = captured.out.strip()
    assert link.startswith("https://provenant.example.com/reset-password?token=")
    assert "works once" in captured.err
    token = link.rsplit("token=", 1)[1]

    reset = client.post("/api/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})
    assert reset.status_code == 200, reset.text
    signed_in = login(client, owner.email, NEW_PASSWORD)
    [entry] = audit_entries(client, signed_in.headers, action="team.member.password_reset_issued")
    assert entry["after"]["via"] == "command line" and entry["user"] is None
    assert entry["userAgent"] == "provenant users reset-password (command line)"
    assert token not in str(entry)


def test_an_unknown_email_is_a_clear_message_and_a_failing_exit(tmp_path: Path, settings: Settings) -> None:
    env = {"PROVENANT_DATABASE_URL": settings.resolved_database_url, "PROVENANT_DATA_DIR": str(settings.data_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "provenant", "users", "reset-password", "nobody@example.com"],
        env=env | {"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "no account with the email 'nobody@example.com'" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_database_that_is_not_there_is_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROVENANT_DATABASE_URL", f"sqlite:///{tmp_path / 'never-migrated.db'}")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exited:
            cli.main(["users", "list"])
    finally:
        get_settings.cache_clear()
    assert exited.value.code == 1
    assert "provenant migrate" in capsys.readouterr().err


def test_with_email_the_person_is_told_a_link_was_issued_by_the_servers_outbox(
    client: TestClient, environment: None, monkeypatch: pytest.MonkeyPatch, database: Database, settings: Settings
) -> None:
    owner = register(client)
    monkeypatch.setenv("PROVENANT_SMTP_URL", "smtp://127.0.0.1:25")
    get_settings.cache_clear()
    cli.main(["users", "reset-password", owner.email])
    with database.transaction(writes=False) as session:
        [email] = session.scalars(select(OutboxEmail)).all()
    # Sealed with the server's own key (the same data directory): the server's sender can open it.
    opened = Outbox(key=load_or_create_key(settings.data_dir), public_url="x").unseal(email.id, email.payload or "")
    assert email.to_address == owner.email and email.template == "member_password_reset_issued"
    assert "The operator of your Provenant server issued a link" in opened.text and "token=" not in opened.text
