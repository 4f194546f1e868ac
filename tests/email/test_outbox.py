"""The outbox: an email is a row of the transaction that decides it, sealed, sent afterwards by the
process's sender through a real SMTP server; nothing stored without SMTP; a slow SMTP server slows no request."""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from provenant.app import create_app
from provenant.auth.encryption import EncryptionKey
from provenant.config import Settings
from provenant.db import Database
from provenant.email import outbox
from provenant.email.outbox import Outbox, PayloadUnreadable, install_outbox
from provenant.email.templates import render
from provenant.models import OutboxEmail
from tests.email.mailbox import PUBLIC_URL, Mailbox, html_of, mail_client, mailbox, text_of, with_email
from tests.factories import invite, link_token, persisted_bytes, register

__all__ = ["mail_client", "mailbox"]  # fixtures


def _rows(database: Database) -> list[OutboxEmail]:
    with database.transaction(writes=False) as session:
        return list(session.scalars(select(OutboxEmail)))


def _wait_sent(database: Database, count: int, timeout: float = 15) -> list[OutboxEmail]:
    deadline = time.monotonic() + timeout
    while True:
        rows = _rows(database)
        if sum(row.sent_at is not None for row in rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_an_invitation_is_emailed_with_the_link_the_inviter_sees(
    mail_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    owner = register(mail_client, name="Grace <Hopper>")
    invitation = invite(mail_client, owner, email="new.person@example.com", role="VIEWER")
    assert invitation["inviteLink"].startswith(f"{PUBLIC_URL}/accept-invitation?token=")

    [message] = mailbox[0].wait_for(1, to="new.person@example.com")
    assert message["Subject"] == "Grace <Hopper> invited you to Acme on Provenant"
    assert message["From"] == "Provenant <noreply@example.test>"
    assert invitation["inviteLink"] in text_of(message)
    assert "as VIEWER" in text_of(message)
    body = html_of(message)
    assert f'href="{invitation["inviteLink"]}"' in body
    assert "Grace &lt;Hopper&gt;" in body and "<Hopper>" not in body  # a name is text, never markup


def test_the_link_in_the_outbox_is_sealed_and_gone_once_sent(
    mail_client: TestClient, mailbox: tuple[Mailbox, int], database: Database
) -> None:
    owner = register(mail_client)
    token = link_token(invite(mail_client, owner)["inviteLink"])
    mailbox[0].wait_for(1)
    [row] = _wait_sent(database, 1)
    assert row.sent_at is not None and row.payload is None and row.next_attempt_at is None
    assert row.template == "invitation" and row.attempts == 1
    assert token.encode() not in persisted_bytes(database)


def test_without_smtp_nothing_is_stored_and_nothing_fails(client: TestClient, database: Database) -> None:
    owner = register(client)
    invite(client, owner)
    assert client.post("/api/auth/forgot-password", json={"email": owner.email}).status_code == 200
    assert _rows(database) == []


def test_a_transaction_that_rolls_back_leaves_no_email(settings: Settings, database: Database) -> None:
    install_outbox(database, with_email(settings, 25), EncryptionKey(b"s" * 32))
    with pytest.raises(RuntimeError), database.transaction() as session:
        outbox.enqueue(session, to="a@example.com", template="password_changed", context={"name": "A", "email": "a"})
        session.flush()
        raise RuntimeError("the change that decided the email failed")
    assert _rows(database) == []


def test_a_payload_opens_only_with_the_secret_it_was_sealed_with() -> None:
    sealed = Outbox(key=EncryptionKey(b"a" * 32), public_url=PUBLIC_URL).seal(
        "id-1", render("two_factor_enabled", {"name": "A", "email": "e"})
    )
    assert (
        Outbox(key=EncryptionKey(b"a" * 32), public_url=PUBLIC_URL)
        .unseal("id-1", sealed)
        .subject.startswith("Two-factor")
    )
    with pytest.raises(PayloadUnreadable):
        Outbox(key=EncryptionKey(b"b" * 32), public_url=PUBLIC_URL).unseal("id-1", sealed)
    with pytest.raises(PayloadUnreadable):
        Outbox(key=EncryptionKey(b"a" * 32), public_url=PUBLIC_URL).unseal("id-2", sealed)  # bound to its row


@pytest.fixture
def silent_smtp_port() -> Iterator[int]:
    """A server that accepts connections and never says a word: an SMTP server that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_an_smtp_server_that_hangs_slows_no_request(
    settings: Settings, database: Database, silent_smtp_port: int
) -> None:
    app = create_app(with_email(settings, silent_smtp_port, smtp_timeout=3))
    with TestClient(app, raise_server_exceptions=False) as client:
        owner = register(client)
        invite(client, owner)  # the sender now waits on the silent server, in its thread
        started = time.monotonic()
        for _ in range(5):
            invite(client, owner)
            assert client.post("/api/auth/forgot-password", json={"email": owner.email}).status_code == 200
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed  # 10 requests; a single one waiting on SMTP would take 3 s


def test_smtp_settings_need_the_public_url(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="PROVENANT_PUBLIC_URL"):
        Settings(data_dir=tmp_path, smtp_url="smtp://127.0.0.1:25")
    with pytest.raises(ValidationError, match="smtps://"):
        Settings(data_dir=tmp_path, smtp_url="http://127.0.0.1:25", public_url=PUBLIC_URL)
