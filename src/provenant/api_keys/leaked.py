"""Keys reported exposed (a secret scanner's find, a key pasted in a public issue): revoked at once.

Anyone may report, without signing in, so the answer must not tell whether a key existed: the route
answers 202 with the number of keys received before anything is looked up, and the revocation runs
after the answer is sent. The report itself is limited per client IP (auth.attempts).
"""

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError

from provenant.api_keys.service import revoke
from provenant.auth import security
from provenant.auth.principal import Actor
from provenant.db import Database
from provenant.email import outbox
from provenant.models import ApiKey, Org, User

logger = logging.getLogger(__name__)

# The report was answered already: a busy database is waited out rather than the report dropped.
ATTEMPTS = 5
PAUSE_SECONDS = 1.0


async def revoke_reported(database: Database, reporter: Actor, keys: list[str]) -> None:
    """Revokes every active key among ``keys`` with reason "leaked", each with its audit entry and an email to
    its creator (who learns it from us, not from a failing deploy).

    Each attempt is one transaction run whole on the event loop, with no await inside (see
    provenant.db); the pauses between attempts hold nothing."""
    hashes = {security.hash_secret(key) for key in keys if security.is_well_formed_api_key(key)}
    if not hashes:
        return
    for attempt in range(1, ATTEMPTS + 1):
        try:
            _revoke(database, reporter, hashes)
            return
        except SQLAlchemyError as error:
            reason = getattr(error, "orig", None) or error  # the engine hides statement parameters
            if attempt == ATTEMPTS:
                logger.error("a leaked-key report was not processed (%s: %s)", type(error).__name__, reason)
                return
            logger.warning("a leaked-key report waits for the database (%s: %s)", type(error).__name__, reason)
            await asyncio.sleep(PAUSE_SECONDS * attempt)


def _revoke(database: Database, reporter: Actor, hashes: set[str]) -> None:
    now = datetime.now(UTC)
    with database.transaction() as session:
        found = session.execute(
            select(ApiKey, User, Org)
            .join(User, User.id == ApiKey.user_id)
            .join(Org, Org.id == ApiKey.org_id)
            .where(
                ApiKey.key_hash.in_(hashes),
                ApiKey.revoked_at.is_(None),
                or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
            )
            .with_for_update(of=ApiKey)
        ).all()
        for key, creator, org in found:
            revoke(session, reporter, key, now=now, leaked=True)
            outbox.enqueue(
                session,
                to=creator.email,
                template="key_exposed_revoked",
                context={
                    "name": creator.name,
                    "key_name": key.name,
                    "key_prefix": f"pk_live_{key.key_prefix}…",
                    "org_name": org.name,
                    "link": outbox.link(session, "/keys") or "",
                },
            )
