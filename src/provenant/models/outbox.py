"""Emails waiting to be sent (provenant.email)."""

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from provenant.models.base import Base, IdColumn, new_id, utcnow


class OutboxEmail(Base):
    """An email decided in some transaction, waiting for the sender (provenant.email.sender).

    ``payload`` (subject and bodies) is encrypted: a reset or invitation link is a credential. It is
    emptied once the email is sent or given up on; the row is kept a while as a record, then deleted.
    """

    __tablename__ = "email_outbox"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    template: Mapped[str] = mapped_column(String(64))
    to_address: Mapped[str] = mapped_column(String(320))
    payload: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a sender may next claim it; NULL once it is sent or given up on (so the index holds only mail due).
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
