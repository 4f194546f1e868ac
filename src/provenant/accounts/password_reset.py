"""Password reset: a one-time link by email, by an OWNER or ADMIN for a member, or by the operator's command.

A reset token is 32 bytes from the CSPRNG, stored as its SHA-256 alone, works once, for an hour, and
issuing one ends the user's older ones. Using it sets the password, ends every older JWT of the user
(their token generation moves on, as a password change does) and every other open token, and signs in.

Asking for a reset answers the same whether the email has an account or not, after the same work: the same
lookup, the same audit entry, the same commit. The link is issued and its email enqueued (one transaction,
so a link exists exactly when its email will be sent) only after the answer has left, and the email is sent
later still by the outbox's sender (provenant.email): nothing a client can time depends on the account.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from provenant.accounts.service import SignedIn, email_key, find_user_by_email, sign_in
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth import security
from provenant.auth.attempts import AttemptLimiter
from provenant.auth.principal import Actor
from provenant.db import Database
from provenant.email import outbox
from provenant.email.outbox import SESSION_KEY
from provenant.errors import NotFound, ProvenantError
from provenant.models import Org, PasswordReset, User
from provenant.sign_in import domains as sso_domains

logger = logging.getLogger(__name__)

RESET_LIFETIME = timedelta(hours=1)
_ATTEMPTS = 3
REQUESTED_MESSAGE = "If that email is registered, you'll receive a reset link shortly."
RESET_MESSAGE = "Your password has been reset."


class InvalidResetToken(ProvenantError):
    status_code = 400
    code = "invalid_reset_token"
    message = "This reset link is not valid: it was used, replaced by a newer one, or has expired. Ask for a new one."


@dataclass(frozen=True, slots=True)
class IssuedReset:
    """The only object that carries a reset link; the token in it is stored as its SHA-256 alone."""

    reset_link: str
    expires_at: datetime


def refuse_if_sso_enforced(session: Session, email: str) -> None:
    """A reset for an email whose domain an organization signs in with single sign-on (enforced) answers 403
    ``sso_required``: the one check every way to a reset goes through."""
    sso_domains.refuse_password_if_enforced(session, email)


def _end_open_tokens(session: Session, user_id: str, now: datetime) -> None:
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def issue(session: Session, user: User, *, link_origin: str, issued_by_id: str | None, now: datetime) -> IssuedReset:
    """A new reset link for ``user``; their older links stop working."""
    _end_open_tokens(session, user.id, now)
    token = security.generate_token()
    reset = PasswordReset(
        user_id=user.id,
        token_hash=security.hash_secret(token),
        issued_by_id=issued_by_id,
        expires_at=now + RESET_LIFETIME,
        created_at=now,
    )
    session.add(reset)
    return IssuedReset(reset_link=f"{link_origin}/reset-password?token={token}", expires_at=reset.expires_at)


async def request_reset(session: Session, actor: Actor, limiter: AttemptLimiter, *, email: str) -> str | None:
    """Counts and audits a reset request, the same way whether or not ``email`` has an account; returns the id
    of the account to email a link to (``email_reset_link``, after the answer), or None. Limited like sign-ins."""
    await limiter.count_reset_request(email_key(email), actor.ip_address)  # before the first statement
    refuse_if_sso_enforced(session, email)
    user = find_user_by_email(session, email)
    audit.record(
        session,
        actor,
        AuditAction.AUTH_PASSWORD_RESET_REQUESTED,
        resource_type="user",
        resource_id=user.id if user else None,
        after={"email": email.strip()[:320]},
        org_id=user.org_id if user else None,
        user_id=user.id if user else None,
    )
    return user.id if user and user.org_id else None


async def email_reset_link(database: Database, user_id: str | None, *, link_origin: str) -> None:
    """Issues a link and enqueues its email, in one transaction of its own, once the answer has been sent: the
    answer to a reset request, and its timing, cannot depend on whether the account exists. Nothing without an
    account or without email; a busy database is waited out a little, as a report of a leaked key is."""
    if user_id is None or SESSION_KEY not in database.session_info:
        return
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with database.transaction() as session:
                user = session.get(User, user_id)
                if user is None or user.org_id is None:
                    return
                if not user.password_hash:  # signs in through single sign-on or GitHub: told so, no link
                    outbox.enqueue(
                        session,
                        to=user.email,
                        template="password_reset_no_password",
                        context={"name": user.name, "link": f"{link_origin}/"},
                    )
                    return
                issued = issue(session, user, link_origin=link_origin, issued_by_id=None, now=datetime.now(UTC))
                outbox.enqueue(
                    session,
                    to=user.email,
                    template="password_reset",
                    context={"name": user.name, "link": issued.reset_link},
                )
            return
        except SQLAlchemyError as error:
            if attempt == _ATTEMPTS:
                logger.error("a password reset link was not emailed (%s)", type(error).__name__)
                return
            await asyncio.sleep(attempt)


def check_token(database: Database, token: str) -> None:
    """400 for a token that cannot be used, before the new password is hashed (argon2 is not spent on it)."""
    with database.transaction(writes=False) as reading:
        _open_reset(reading, token, datetime.now(UTC))


def _open_reset(session: Session, token: str, now: datetime) -> PasswordReset:
    reset = session.scalars(
        select(PasswordReset).where(PasswordReset.token_hash == security.hash_secret(token))
    ).one_or_none()
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise InvalidResetToken()
    return reset


def reset_password(session: Session, actor: Actor, *, token: str, password_hash: str, secret: str) -> SignedIn:
    """Sets the password behind a valid ``token`` (it arrives hashed: argon2 ran before this transaction),
    ends the user's older JWTs and reset links, and signs them in. A token works once, even when two
    requests present it at the same moment (the UPDATE that uses it is the arbiter)."""
    now = datetime.now(UTC)
    reset = _open_reset(session, token, now)
    used: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise InvalidResetToken()
    user = session.get_one(User, reset.user_id)
    if user.org_id is None:  # removed from their organization since: nothing to sign in to
        raise InvalidResetToken()
    refuse_if_sso_enforced(session, user.email)
    _end_open_tokens(session, user.id, now)
    user.password_hash = password_hash
    user.token_generation += 1
    org = session.get_one(Org, user.org_id)
    audit.record(
        session,
        actor,
        AuditAction.AUTH_PASSWORD_RESET,
        resource_type="user",
        resource_id=user.id,
        after={"email": user.email, "issuedBy": reset.issued_by_id},
        org_id=org.id,
        user_id=user.id,
    )
    outbox.enqueue(
        session, to=user.email, template="password_changed", context={"name": user.name, "email": user.email}
    )
    session.flush()
    return sign_in(user, org, secret=secret)


def issue_by_operator(session: Session, *, email: str, link_origin: str) -> IssuedReset:
    """``provenant users reset-password EMAIL``: a link for the operator to hand over, audited in the user's
    organization. NotFound for an email without an account in an organization."""
    user = find_user_by_email(session, email)
    if user is None or user.org_id is None:
        raise NotFound("An account with that email in an organization")
    refuse_if_sso_enforced(session, user.email)
    now = datetime.now(UTC)
    issued = issue(session, user, link_origin=link_origin, issued_by_id=None, now=now)
    operator = Actor(org_id=user.org_id, user_id=None, user_agent="provenant users reset-password (command line)")
    audit.record(
        session,
        operator,
        AuditAction.TEAM_MEMBER_PASSWORD_RESET_ISSUED,
        resource_type="user",
        resource_id=user.id,
        after=audit.snapshot(user, "email", "role") | audit.snapshot(issued, "expires_at", via="command line"),
    )
    org = session.get_one(Org, user.org_id)
    outbox.enqueue(
        session,
        to=user.email,
        template="member_password_reset_issued",
        context={
            "name": user.name,
            "email": user.email,
            "issuer_name": "The operator of your Provenant server",
            "org_name": org.name,
        },
    )
    return issued
