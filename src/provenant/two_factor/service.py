"""Two-factor sign-in: turning it on and off, recovery codes, and the second step of a sign-in.

The TOTP seed is stored encrypted (auth.encryption, bound to the user's id); recovery codes as keyed
hashes. Every code is used up by one conditional UPDATE, so that of any number of concurrent requests
presenting the same code, in one process or several, exactly one succeeds:
- a TOTP code moves ``users.totp_last_step`` forward, only if it is ahead of the last step used;
- a recovery code sets its ``used_at``, only if it is still NULL.
A code checked at sign-in is used up in a transaction of its own, committed at once (check_second_factor).
The conditional UPDATE also takes the user's row lock (PostgreSQL) or the write lock (SQLite), which
serializes the changes of one person's two-factor settings.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provenant.accounts.service import SignedIn, confirm_password, email_key, sign_in
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth import security
from provenant.auth.attempts import AttemptLimiter
from provenant.auth.encryption import EncryptionKey, decrypt, digest, encrypt
from provenant.auth.principal import Actor, Principal
from provenant.db import Database
from provenant.email import outbox
from provenant.errors import Conflict, ProvenantError, Unauthenticated
from provenant.models import Org, RecoveryCode, RevokedToken, User
from provenant.two_factor import codes


class InvalidCode(ProvenantError):
    """400 ``invalid_code``: a code that does not confirm the authenticator app being set up."""

    code = "invalid_code"
    message = "That code is not right. Enter the 6-digit code your authenticator app shows now."


def wrong_code() -> Unauthenticated:
    return Unauthenticated(
        "That code is not right, or it was already used. Enter the current code, or an unused recovery code.",
        code="invalid_code",
    )


def invalid_mfa_token() -> Unauthenticated:
    return Unauthenticated(
        "This sign-in has expired or ended; sign in again with your email and password.", code="invalid_mfa_token"
    )


def _already_on() -> Conflict:
    return Conflict(
        "Two-factor sign-in is already on. To move it to another app, turn it off, then set it up again.",
        code="two_factor_already_enabled",
    )


def _seed_purpose(user_id: str) -> str:
    return f"totp-seed:{user_id}"


def _recovery_purpose(user_id: str) -> str:
    return f"recovery-code:{user_id}"


def _changed(session: Session, statement: Any) -> bool:
    """Runs a conditional UPDATE; whether it changed a row (the caller won the race)."""
    result: CursorResult[Any] = session.execute(statement.execution_options(synchronize_session=False))  # type: ignore[assignment]
    return result.rowcount == 1


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    otpauth_uri: str
    qr_code: str


def begin_totp(session: Session, caller: Principal, *, key: EncryptionKey) -> TotpSetup:
    """A new seed, kept (encrypted) until a code confirms it; it replaces a setup left unconfirmed."""
    secret = codes.new_totp_secret()
    stored = encrypt(key, secret, purpose=_seed_purpose(caller.user_id))
    started = update(User).where(User.id == caller.user_id, User.totp_enabled_at.is_(None))
    if not _changed(session, started.values(totp_secret=stored, totp_last_step=None)):
        raise _already_on()
    uri = codes.otpauth_uri(secret, account=caller.email)
    return TotpSetup(secret=secret, otpauth_uri=uri, qr_code=codes.qr_code(uri))


def confirm_totp(session: Session, caller: Principal, *, key: EncryptionKey, code: str) -> list[str]:
    """Turns two-factor sign-in on with a current code of the seed being set up; the recovery codes,
    shown this once."""
    now = datetime.now(UTC)
    user = session.get_one(User, caller.user_id)
    if user.totp_enabled_at is not None:
        raise _already_on()
    if user.totp_secret is None:
        raise Conflict("Set up an authenticator app first: there is no code to confirm.", code="two_factor_not_set_up")
    step = codes.totp_step(decrypt(key, user.totp_secret, purpose=_seed_purpose(user.id)), code, now)
    if step is None:
        raise InvalidCode()
    # Only over the seed that was checked, and only once: a concurrent confirmation or a new setup wins alone.
    confirmed = update(User).where(
        User.id == user.id, User.totp_enabled_at.is_(None), User.totp_secret == user.totp_secret
    )
    if not _changed(session, confirmed.values(totp_enabled_at=now, totp_last_step=step)):
        raise InvalidCode("That code was already used, or the setup changed meanwhile; set up again.")
    recovery_codes = _replace_recovery_codes(session, user.id, key=key, now=now)
    audit.record(session, caller, AuditAction.AUTH_2FA_ENABLED, resource_type="user", resource_id=user.id)
    context = {"name": user.name, "email": user.email}
    outbox.enqueue(session, to=user.email, template="two_factor_enabled", context=context)
    return recovery_codes


async def turn_off(
    database: Database, session: Session, caller: Principal, limiter: AttemptLimiter, *, password: str
) -> None:
    """Turns two-factor sign-in off (and drops a setup left unconfirmed); needs the password."""
    await confirm_password(database, caller, limiter, password=password, via="two-factor-off")
    was_on = session.scalar(select(User.totp_enabled_at).where(User.id == caller.user_id)) is not None
    session.execute(
        update(User)
        .where(User.id == caller.user_id)
        .values(totp_secret=None, totp_enabled_at=None, totp_last_step=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == caller.user_id))
    if was_on:
        audit.record(session, caller, AuditAction.AUTH_2FA_DISABLED, resource_type="user", resource_id=caller.user_id)
        context = {"name": caller.name, "email": caller.email}
        outbox.enqueue(session, to=caller.email, template="two_factor_disabled", context=context)


async def regenerate_recovery_codes(
    database: Database,
    session: Session,
    caller: Principal,
    limiter: AttemptLimiter,
    *,
    password: str,
    key: EncryptionKey,
) -> list[str]:
    """A new set of recovery codes, shown this once; the old set stops working. Needs the password."""
    await confirm_password(database, caller, limiter, password=password, via="recovery-codes")
    now = datetime.now(UTC)
    # Takes the user's row lock first: two regenerations at once leave one set, not both.
    locked = update(User).where(User.id == caller.user_id, User.totp_enabled_at.is_not(None))
    if not _changed(session, locked.values(updated_at=now)):
        raise Conflict(
            "Two-factor sign-in is off: there are no recovery codes to replace.", code="two_factor_not_enabled"
        )
    recovery_codes = _replace_recovery_codes(session, caller.user_id, key=key, now=now)
    audit.record(
        session,
        caller,
        AuditAction.AUTH_2FA_RECOVERY_CODES_REGENERATED,
        resource_type="user",
        resource_id=caller.user_id,
    )
    return recovery_codes


def _replace_recovery_codes(session: Session, user_id: str, *, key: EncryptionKey, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    shown = codes.new_recovery_codes()
    purpose = _recovery_purpose(user_id)
    session.add_all(
        RecoveryCode(user_id=user_id, code_hash=digest(key, codes.compact(code), purpose=purpose), created_at=now)
        for code in shown
    )
    return shown


def use_second_factor(session: Session, user: User, code: str, *, key: EncryptionKey, now: datetime) -> str | None:
    """Uses up ``code`` if it is a current TOTP code of ``user`` not used before, or one of their unused
    recovery codes: the method (``totp``, ``recovery_code``), else None. In ``session``: undone if the
    request fails."""
    if user.totp_enabled_at is None or user.totp_secret is None:
        return None
    if codes.is_totp_code(code):
        step = codes.totp_step(decrypt(key, user.totp_secret, purpose=_seed_purpose(user.id)), code, now)
        if step is None:
            return None
        ahead = (User.totp_last_step.is_(None)) | (User.totp_last_step < step)
        moved = update(User).where(User.id == user.id, User.totp_enabled_at.is_not(None), ahead)
        return "totp" if _changed(session, moved.values(totp_last_step=step)) else None
    recovery_code = codes.recovery_code_or_none(code)
    if recovery_code is None:
        return None
    code_hash = digest(key, recovery_code, purpose=_recovery_purpose(user.id))
    used = update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == code_hash, RecoveryCode.used_at.is_(None)
    )
    return "recovery_code" if _changed(session, used.values(used_at=now)) else None


def check_second_factor(
    database: Database,
    actor: Actor,
    user: User,
    code: str,
    *,
    key: EncryptionKey,
    now: datetime,
    via: str,
    spend: Callable[[Session], None] | None = None,
) -> str:
    """Uses up ``code`` (``use_second_factor``) in a transaction of its own, committed at once with ``spend``'s
    writes: a code is spent once checked, whatever happens to the request after. The request's own session
    would hold SQLite's write lock from the code's UPDATE on, and the attempt counters that follow write in
    transactions of their own. A wrong code: an audit entry, then 401 ``invalid_code`` (the caller reserved the
    attempt as a sign-in's: it stays counted as a failure)."""
    with database.transaction() as writing:
        method = use_second_factor(writing, user, code, key=key, now=now)
        if method is not None and spend is not None:
            spend(writing)
    if method is not None:
        return method
    with database.transaction() as writing:  # kept, like a failed sign-in's
        audit.record(
            writing,
            actor,
            AuditAction.AUTH_LOGIN_2FA_FAILED,
            resource_type="user",
            resource_id=user.id,
            after={"email": user.email, "via": via},
            org_id=user.org_id,
            user_id=user.id,
        )
    raise wrong_code()


async def finish_sign_in(
    database: Database,
    session: Session,
    actor: Actor,
    limiter: AttemptLimiter,
    *,
    mfa_token: str,
    code: str,
    secret: str,
    key: EncryptionKey,
) -> SignedIn:
    """The second step of a sign-in: the mfaToken from the right password, and a code. The token works for
    5 minutes, for 5 codes, and once; wrong codes count as failed sign-ins of the account."""
    now = datetime.now(UTC)
    try:
        claims = security.decode_mfa_token(mfa_token, secret)
    except security.TokenInvalid:
        raise invalid_mfa_token() from None
    with database.transaction(writes=False) as reading:
        user = reading.get(User, claims.user_id)
        org = reading.get(Org, user.org_id) if user and user.org_id else None
        ended = reading.scalar(select(exists().where(RevokedToken.jti == claims.token_id)))
    # Signed out everywhere or a new password since the password step, or two-factor turned off: start again.
    if user is None or org is None or ended or user.token_generation != claims.generation or not user.two_factor:
        raise invalid_mfa_token()
    attempt = await limiter.reserve_sign_in(email_key(user.email), actor.ip_address)  # a wrong code is a failure
    if not await limiter.count_mfa_code(claims.token_id):
        await attempt.released()  # no code was checked
        raise invalid_mfa_token()

    def spend_token(writing: Session) -> None:
        # With the code: of two sign-ins finishing with one token at once, one wins, and the other's code stays
        # unused (its transaction rolls back).
        try:
            with writing.begin_nested():
                expires_at = datetime.fromtimestamp(claims.expires_at, UTC)
                writing.add(RevokedToken(jti=claims.token_id, user_id=user.id, expires_at=expires_at))
        except IntegrityError:
            raise invalid_mfa_token() from None

    method = check_second_factor(database, actor, user, code, key=key, now=now, via="sign-in", spend=spend_token)
    await attempt.succeeded()
    audit.record(
        session,
        actor,
        AuditAction.AUTH_LOGIN,
        resource_type="user",
        resource_id=user.id,
        after={"method": method},
        org_id=org.id,
        user_id=user.id,
    )
    return sign_in(user, org, secret=secret)
