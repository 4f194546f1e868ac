"""The outbox: an email is a row written in the same transaction as what causes it, and sent afterwards.

So an invitation's email exists exactly when the invitation does (a rolled-back request leaves none), a
restart loses none, and an SMTP server that is down or slow never delays a request: the sender
(provenant.email.sender) delivers rows after their transaction commits, and retries.

Without SMTP configured nothing is stored: mail that cannot be sent is not kept for later, when a reset
link in it would long have expired and an operator turning email on would send a backlog nobody expects.

The subject and bodies are sealed (AES-GCM, with a key derived from the JWT signing secret, which every
process of a deployment shares): a reset or invitation link is a credential and never lies in the
database in plain text. The recipient's address and the template's name stay readable, for operators.
"""

import base64
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import event
from sqlalchemy.orm import Session

from provenant.config import Settings
from provenant.db import Database
from provenant.email import templates
from provenant.email.templates import Rendered
from provenant.models import OutboxEmail, new_id

# Where a session finds the outbox of its process (provenant.db.Database.session_info).
SESSION_KEY = "provenant.outbox"
_WAKE_REGISTERED = "provenant.outbox.wake"
_NONCE_BYTES = 12


class PayloadUnreadable(Exception):
    """A payload sealed with another secret (PROVENANT_JWT_SECRET changed) or altered."""


class Outbox:
    """What a process needs to write outbox rows and read them back: the sealing key, the public URL
    links lead to, and a way to wake this process's sender when a transaction has enqueued mail."""

    def __init__(self, *, secret: str, public_url: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"provenant email outbox").derive(
            secret.encode()
        )
        self._aead = AESGCM(key)
        self.public_url = public_url.rstrip("/")
        self._wake: Callable[[], None] | None = None

    def link(self, path: str) -> str:
        """An absolute link to ``path`` of the dashboard."""
        return f"{self.public_url}{path}"

    def seal(self, email_id: str, rendered: Rendered) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        plain = json.dumps({"subject": rendered.subject, "text": rendered.text, "html": rendered.html}).encode()
        return base64.b64encode(nonce + self._aead.encrypt(nonce, plain, email_id.encode())).decode()

    def unseal(self, email_id: str, payload: str) -> Rendered:
        raw = base64.b64decode(payload)
        try:
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], email_id.encode())
        except InvalidTag:
            raise PayloadUnreadable from None
        return Rendered(**json.loads(plain))

    def on_enqueued(self, wake: Callable[[], None] | None) -> None:
        """``wake`` is called after each commit that enqueued mail (the sender of this process)."""
        self._wake = wake

    def _committed(self, _session: Session) -> None:
        if self._wake is not None:
            self._wake()


def install_outbox(database: Database, settings: Settings, secret: str) -> Outbox | None:
    """With PROVENANT_SMTP_URL: the outbox that every session of ``database`` writes to; else None."""
    if settings.smtp_url is None or settings.public_url is None:
        return None
    outbox = Outbox(secret=secret, public_url=settings.public_url)
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


def is_configured(session: Session) -> bool:
    """Whether mail written in ``session`` will be sent (PROVENANT_SMTP_URL is set)."""
    return SESSION_KEY in session.info


def link(session: Session, path: str) -> str | None:
    """An absolute link to ``path`` for an email, or None when email is not configured."""
    outbox: Outbox | None = session.info.get(SESSION_KEY)
    return outbox.link(path) if outbox else None
