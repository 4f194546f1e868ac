"""Emails about keys: "your key was reported exposed and revoked" to its creator, and "your key expires in
7 days", once per key, from the hourly sweep every server process runs (one email whichever finds it)."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from provenant.api_keys.reminders import remind_expiring_keys
from provenant.auth.encryption import EncryptionKey
from provenant.config import Settings
from provenant.db import Database
from provenant.email.outbox import Outbox, install_outbox
from provenant.models import OutboxEmail
from tests.email.mailbox import Mailbox, mail_client, mailbox, text_of, with_email
from tests.factories import Account, create_key, invite_and_accept, login, register, set_role

__all__ = ["mail_client", "mailbox"]  # fixtures

pytestmark = pytest.mark.both_databases  # keys are claimed with SKIP LOCKED (PostgreSQL) or the write lock (SQLite)

KEY = EncryptionKey(b"outbox-sealing-key-for-the-tests")
NOW = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)


def _outbox(database: Database, settings: Settings) -> Outbox:
    outbox = install_outbox(database, with_email(settings, 25), KEY)
    assert outbox is not None
    return outbox


def _reminders(database: Database, outbox: Outbox) -> list[tuple[str, str]]:
    with database.transaction(writes=False) as session:
        rows = session.scalars(select(OutboxEmail).where(OutboxEmail.template == "key_expiring")).all()
        return [(row.to_address, outbox.unseal(row.id, row.payload or "").text) for row in rows]


def _key(client: TestClient, account: Account, name: str, expires_in: timedelta | None) -> str:
    return create_key(client, account, name=name, expires_at=NOW + expires_in if expires_in else None)


def _key_id(client: TestClient, account: Account, name: str) -> str:
    return str(next(k["id"] for k in client.get("/api/org/keys", headers=account.headers).json() if k["name"] == name))


def test_a_key_expiring_within_7_days_reminds_its_creator_once(
    client: TestClient, database: Database, settings: Settings
) -> None:
    outbox = _outbox(database, settings)
    with time_machine.travel(NOW - timedelta(days=30), tick=False):
        owner = register(client)
        member = invite_and_accept(client, owner, "MEMBER")
        raw = _key(client, member, "deploy bot", timedelta(days=6))
        _key(client, owner, "later", timedelta(days=8))
        _key(client, owner, "forever", None)
        _key(client, owner, "revoked", timedelta(days=5))
        assert (
            client.delete(f"/api/org/keys/{_key_id(client, owner, 'revoked')}", headers=owner.headers).status_code
            == 200
        )
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        _key(client, login(client, owner.email), "short", timedelta(days=2))  # whoever made it for 3 days knows

    remind_expiring_keys(database, NOW)
    remind_expiring_keys(database, NOW + timedelta(hours=1))  # the next hour's sweep: nothing again
    [(to, text)] = _reminders(database, outbox)
    assert to == member.email
    assert "deploy bot" in text and f"pk_live_{raw[8:16]}…" in text and raw not in text
    assert "07 March 2031" in text and "/keys" in text

    remind_expiring_keys(database, NOW + timedelta(days=1, hours=1))  # "later" is now within 7 days
    assert sorted(to for to, _ in _reminders(database, outbox)) == sorted([member.email, owner.email])


def test_a_rolled_key_is_not_reminded_but_its_replacement_is(
    client: TestClient, database: Database, settings: Settings
) -> None:
    outbox = _outbox(database, settings)
    with time_machine.travel(NOW - timedelta(days=30), tick=False):
        owner = register(client)
        _key(client, owner, "rolled", timedelta(days=6))
        old_id = _key_id(client, owner, "rolled")
        assert client.post(f"/api/org/keys/{old_id}/roll", json={}, headers=owner.headers).status_code == 201
    remind_expiring_keys(database, NOW)
    assert len(_reminders(database, outbox)) == 1  # the replacement, which has the same expiry


def test_a_removed_creator_is_not_reminded(client: TestClient, database: Database, settings: Settings) -> None:
    outbox = _outbox(database, settings)
    with time_machine.travel(NOW - timedelta(days=30), tick=False):
        owner = register(client)
        member = invite_and_accept(client, owner, "MEMBER")
        _key(client, member, "orphan", timedelta(days=6))
    set_role(database, member.user_id, None)
    remind_expiring_keys(database, NOW)
    assert _reminders(database, outbox) == []


def test_processes_sweeping_at_the_same_moment_remind_each_key_once(
    client: TestClient, database: Database, settings: Settings
) -> None:
    outbox = _outbox(database, settings)
    with time_machine.travel(NOW - timedelta(days=30), tick=False):
        owner = register(client)
        for index in range(20):
            _key(client, owner, f"key {index}", timedelta(days=3))
    sweepers = [Database(settings.resolved_database_url) for _ in range(4)]
    for sweeper in sweepers:
        install_outbox(sweeper, with_email(settings, 25), KEY)
    start = threading.Barrier(len(sweepers))
    failures: list[BaseException] = []

    def sweep(sweeper: Database) -> None:
        start.wait()
        for _ in range(3):
            try:
                remind_expiring_keys(sweeper, NOW)
            except Exception as error:  # a busy database: the next hour's sweep takes over
                failures.append(error)
            time.sleep(0.01)

    threads = [threading.Thread(target=sweep, args=(sweeper,)) for sweeper in sweepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for sweeper in sweepers:
        sweeper.dispose()
    names = sorted(text.split("API key ")[1].split(" (")[0] for _, text in _reminders(database, outbox))
    assert names == sorted(f"key {index}" for index in range(20)), failures


def test_a_key_reported_exposed_is_emailed_to_its_creator(
    mail_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    owner = register(mail_client)
    member = invite_and_accept(mail_client, owner, "MEMBER")
    raw = create_key(mail_client, member, name="laptop")
    assert mail_client.post("/api/keys/report-leaked", json={"keys": [raw]}).status_code == 202
    message = mailbox[0].wait_for(2, to=member.email)[1]  # after the invitation
    assert message["Subject"] == "Your API key laptop was reported exposed and revoked"
    assert f"pk_live_{raw[8:16]}…" in text_of(message) and raw not in message.as_string()
