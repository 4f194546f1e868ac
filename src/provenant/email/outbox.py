"""The outbox: an email is a row written in the same transaction as what causes it, and sent afterwards.

So an invitation's email exists exactly when the invitation does (a rolled-back request leaves none), a
restart loses none, and an SMTP server that is down or slow never delays a request: the sender
(provenant.email.sender) delivers rows after their transaction commits, and retries.

Without SMTP configured nothing is stored: mail that cannot be sent is not kept for later, when a reset
link in it would long have expired and an operator turning email on would send a backlog nobody expects.

The subject and bodies are sealed with the deployment's encryption key (provenant.auth.encryption, the
one way the server encrypts what it must read back), bound to their row: a reset or invitation link is a
credential and never lies in the database in plain text. The recipient's address and the template's name
stay readable, for operators.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from provenant.auth.encryption import DecryptionFailed, EncryptionKey, decrypt, encrypt
from provenant.config import Settings
from provenant.db import Database
from provenant.email import templates
from provenant.email.templates import Rendered
from provenant.models import OutboxEmail, new_id

# Where a session finds the outbox of its process (provenant.db.Database.session_info).
SESSION_KEY = "provenant.outbox"
_WAKE_REGISTERED = "provenant.outbox.wake"


class PayloadUnreadable(Exception):
    """A payload sealed with another key (PROVENANT_ENCRYPTION_KEY changed), moved to another row, or altered."""


class Outbox:
    """What a process needs to write outbox rows and read them back: the sealing key, the public URL
    links lead to, and a way to wake this process's sender when a transaction has enqueued mail."""

    def __init__(self, *, key: EncryptionKey, public_url: str) -> None:
        self._key = key
        self.public_url = public_url.rstrip("/")
        self._wake: Callable[[], None] | None = None

    def link(self, path: str) -> str:
        """An absolute link to ``path`` of the dashboard."""
        return f"{self.public_url}{path}"

    def seal(self, email_id: str, rendered: Rendered) -> str:
        plain = json.dumps({"subject": rendered.subject, "text": rendered.text, "html": rendered.html})
        return encrypt(self._key, plain, purpose=f"email:{email_id}")

    def unseal(self, email_id: str, payload: str) -> Rendered:
        try:
            plain = decrypt(self._key, payload, purpose=f"email:{email_id}")
        except DecryptionFailed:
            raise PayloadUnreadable from None
        return Rendered(**json.loads(plain))

    def on_enqueued(self, wake: Callable[[], None] | None) -> None:
        """``wake`` is called after each commit that enqueued mail (the sender of this process)."""
        self._wake = wake

    def _committed(self, _session: Session) -> None:
        if self._wake is not None:
            self._wake()


def install_outbox(database: Database, settings: Settings, key: EncryptionKey) -> Outbox | None:
    """With PROVENANT_SMTP_URL: the outbox that every session of ``database`` writes to; else None."""
    if settings.smtp_url is None or settings.public_url is None:
        return None
    outbox = Outbox(key=key, public_url=settings.public_url)
    database.session_info[SESSION_KEY] = outbox
    return outbox


def enqueue(session: Session, *, to: str, template: str, context: dict[str, str]) -> None:
    """Writes the email ``template`` renders with ``context``, to ``to``, in ``session``'s transaction:
    sent once that commits, never if it rolls back. Does nothing when email is not configured.
    Raises KeyError for an unknown template or a missing value (a programming error: the request fails)."""
    outbox: Outbox | None = session.info.get(SESSION_KEY)
    if outbox is None:
        return
    rendered = templates.render(template, context)
    now = datetime.now(UTC)
    email = OutboxEmail(id=new_id(), template=template, to_address=to, created_at=now, next_attempt_at=now, attempts=0)
    email.payload = outbox.seal(email.id, rendered)
    session.add(email)
    if not session.info.get(_WAKE_REGISTERED):
        session.info[_WAKE_REGISTERED] = True
        event.listen(session, "after_commit", outbox._committed, once=True)


def link(session: Session, path: str) -> str | None:
    """An absolute link to ``path`` for an email, or None when email is not configured."""
    outbox: Outbox | None = session.info.get(SESSION_KEY)
    return outbox.link(path) if outbox else None
