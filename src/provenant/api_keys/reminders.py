"""The reminder a key's creator gets 7 days before the key expires: once per key, from an hourly sweep.

Every server process runs the sweep (provenant.email.sender, once an hour); each key is marked reminded
in the same transaction that enqueues its email, and PostgreSQL's ``SKIP LOCKED`` (SQLite: the write
lock) keeps two processes from taking the same key: one email per key, whichever process finds it.

Reminded: keys that expire within 7 days and still work, not rolled (their replacement is the one to
remind about), whose creator is still in the key's org; and only keys that were made to live longer
than 7 days: whoever creates a key for three days knows when it ends.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from provenant.db import Database
from provenant.email import outbox
from provenant.models import ApiKey, Org, User

REMIND_BEFORE = timedelta(days=7)
# Per sweep: a backlog (email just turned on) drains over a few hours rather than in one long transaction.
BATCH = 200


def remind_expiring_keys(database: Database, now: datetime) -> None:
    with database.transaction() as session:
        keys = session.execute(
            select(ApiKey, User, Org)
            .join(User, User.id == ApiKey.user_id)
            .join(Org, Org.id == ApiKey.org_id)
            .where(
                ApiKey.expiry_reminded_at.is_(None),
                ApiKey.revoked_at.is_(None),
                ApiKey.rolled_to_id.is_(None),
                ApiKey.expires_at > now,
                ApiKey.expires_at <= now + REMIND_BEFORE,
                User.org_id == ApiKey.org_id,
            )
            .order_by(ApiKey.expires_at)
            .limit(BATCH)
            .with_for_update(of=ApiKey, skip_locked=True)
        ).all()
        for key, creator, org in keys:
            # Marked either way: a key made to live 7 days or less is decided once, like the others.
            key.expiry_reminded_at = now
            assert key.expires_at is not None
            if key.created_at >= key.expires_at - REMIND_BEFORE:
                continue
            outbox.enqueue(
                session,
                to=creator.email,
                template="key_expiring",
                context={
                    "name": creator.name,
                    "key_name": key.name,
                    "key_prefix": f"pk_live_{key.key_prefix}…",
                    "org_name": org.name,
                    "expires_at": key.expires_at.astimezone(UTC).strftime("%d %B %Y, %H:%M UTC"),
                    "link": outbox.link(session, "/keys") or "",
                },
            )
