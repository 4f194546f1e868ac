"""Delivery across server processes: mail decided while the SMTP server is down waits in the outbox, survives
a restart and is delivered exactly once when SMTP is back; two processes on one database send each email once."""

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from provenant.db import Database
from provenant.models import OutboxEmail
from tests.email.mailbox import PUBLIC_URL, smtp_server
from tests.factories import register, unique
from tests.servers import free_port, serve

JWT_SECRET = "the-same-secret-on-every-server-process-0123456789"
ENCRYPTION_KEY = "c2FtZS1rZXktb24tZXZlcnktc2VydmVyLXByb2Nlc3M"  # 32 bytes, base64


def _env(smtp_port: int) -> dict[str, str]:
    return {
        "PROVENANT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "PROVENANT_PUBLIC_URL": PUBLIC_URL,
        # Every process of a deployment shares its secrets: the JWT secret and the key that seals the outbox.
        "PROVENANT_JWT_SECRET": JWT_SECRET,
        "PROVENANT_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "PROVENANT_EMAIL_POLL_INTERVAL": "0.2",
        "PROVENANT_EMAIL_RETRY_DELAY": "0.3",
    }


def _rows(database_url: str) -> list[OutboxEmail]:
    database = Database(database_url)
    try:
        with database.transaction(writes=False) as session:
            return list(session.scalars(select(OutboxEmail)))
    finally:
        database.dispose()


def _invite(client: httpx.Client, headers: dict[str, str]) -> tuple[str, float]:
    email = f"{unique('invited')}@example.com"
    started = time.monotonic()
    response = client.post("/api/org/invitations", json={"email": email, "role": "MEMBER"}, headers=headers)
    assert response.status_code == 201, response.text
    return email, time.monotonic() - started


def test_mail_decided_while_smtp_is_down_survives_a_restart_and_arrives_once(tmp_path: Path, database_url: str) -> None:
    smtp_port = free_port()  # nothing listens there yet: SMTP is down
    with (
        serve(tmp_path / "before", database_url, env=_env(smtp_port)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        owner = register(client)
        invited, seconds = _invite(client, owner.headers)
        assert seconds < 2, seconds  # answered at once: SMTP is not on the request's path
        deadline = time.monotonic() + 15
        while not any(row.attempts >= 1 and row.last_error for row in _rows(database_url)):
            assert time.monotonic() < deadline, "the sender never tried"
            time.sleep(0.1)
    [waiting] = _rows(database_url)
    assert (
        waiting.sent_at is None
        and waiting.next_attempt_at is not None
        and "Connection refused" in (waiting.last_error or "")
    )

    with smtp_server(port=smtp_port) as (mailbox, _), serve(tmp_path / "after", database_url, env=_env(smtp_port)):
        [message] = mailbox.wait_for(1, to=invited)
        time.sleep(1.5)  # several polls and retry delays: nothing is sent again
        assert len(mailbox.messages) == 1
    [sent] = _rows(database_url)
    assert sent.sent_at is not None and sent.payload is None and sent.attempts >= 2
    assert "/accept-invitation?token=" in str(message.get_body(preferencelist=("plain",)))


@pytest.mark.postgresql_only
def test_two_processes_on_one_postgresql_database_send_each_email_once(tmp_path: Path, database_url: str) -> None:
    smtp_port = free_port()
    invitations = 24
    with (
        serve(tmp_path / "first", database_url, env=_env(smtp_port)) as first_server,
        serve(tmp_path / "second", database_url, env=_env(smtp_port)) as second_server,
        httpx.Client(base_url=first_server.url, timeout=30) as first,
        httpx.Client(base_url=second_server.url, timeout=30) as second,
    ):
        owner = register(first)
        # Decided while SMTP is down, through both processes: every row is then due in both at once.
        invited = {_invite((first, second)[i % 2], owner.headers)[0] for i in range(invitations)}
        with smtp_server(port=smtp_port) as (mailbox, _):
            mailbox.wait_for(invitations, timeout=30)
            time.sleep(1.5)
            received = [message["To"] for message in mailbox.messages]
    assert sorted(received) == sorted(invited)  # each once
    assert all(row.sent_at is not None for row in _rows(database_url))
