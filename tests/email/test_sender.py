"""The sender's rules: retries back off from PROVENANT_EMAIL_RETRY_DELAY to an hour apart and stop 24 hours
after the email was decided; an email sealed with another secret is given up, never sent garbled."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from provenant.auth.encryption import EncryptionKey
from provenant.config import Settings
from provenant.db import Database
from provenant.email import outbox
from provenant.email.outbox import Outbox, install_outbox
from provenant.email.sender import Sender, retry_delay
from provenant.models import OutboxEmail
from tests.email.mailbox import smtp_server, with_email
from tests.servers import free_port

KEY = EncryptionKey(b"outbox-sealing-key-for-the-tests")


def test_retries_back_off_to_an_hour() -> None:
    delays = [retry_delay(timedelta(minutes=1), attempt).total_seconds() for attempt in range(1, 10)]
    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


def _enqueue(database: Database, *, decided: datetime) -> str:
    with database.transaction() as session:
        outbox.enqueue(session, to="ada@example.com", template="password_changed", context={"name": "A", "email": "e"})
        session.flush()
        [email] = session.scalars(select(OutboxEmail)).all()
        email.created_at = decided
        return email.id


def _row(database: Database, email_id: str) -> OutboxEmail:
    with database.transaction(writes=False) as session:
        return session.get_one(OutboxEmail, email_id)


def _sender(database: Database, settings: Settings, port: int, box: Outbox) -> Sender:
    return Sender.from_settings(with_email(settings, port), database, box)


def test_a_failure_is_retried_later_until_24_hours_then_given_up(settings: Settings, database: Database) -> None:
    port = free_port()  # nothing listens there
    box = install_outbox(database, with_email(settings, port), KEY)
    assert box is not None
    sender = _sender(database, settings, port, box)
    recent = _enqueue(database, decided=datetime.now(UTC) - timedelta(hours=23))
    asyncio.run(sender.run_once())
    row = _row(database, recent)
    assert row.attempts == 1 and row.sent_at is None and row.failed_at is None and row.payload
    assert row.next_attempt_at is not None and row.next_attempt_at > datetime.now(UTC)
    assert "Connection refused" in (row.last_error or "")

    with database.transaction() as session:  # a day has passed since it was decided
        session.get_one(OutboxEmail, recent).created_at = datetime.now(UTC) - timedelta(hours=24, minutes=1)
        session.get_one(OutboxEmail, recent).next_attempt_at = datetime.now(UTC)
    asyncio.run(sender.run_once())
    given_up = _row(database, recent)
    assert given_up.failed_at is not None and given_up.next_attempt_at is None and given_up.payload is None


def test_an_email_sealed_with_another_secret_is_not_sent(settings: Settings, database: Database) -> None:
    with smtp_server() as (mailbox, port):
        install_outbox(database, with_email(settings, port), EncryptionKey(b"another-key-" + b"0" * 20))
        email_id = _enqueue(database, decided=datetime.now(UTC))
        box = Outbox(key=KEY, public_url="http://x")  # PROVENANT_ENCRYPTION_KEY changed since
        asyncio.run(_sender(database, settings, port, box).run_once())
    assert mailbox.messages == []
    row = _row(database, email_id)
    assert row.failed_at is not None and "another PROVENANT_ENCRYPTION_KEY" in (row.last_error or "")
