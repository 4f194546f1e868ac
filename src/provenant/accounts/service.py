"""Accounts: register, log in, log out. Plain functions over a session; no HTTP here."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provenant.accounts import passwords
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth import security
from provenant.auth.attempts import Attempt, AttemptLimiter
from provenant.auth.principal import Actor, Principal
from provenant.auth.roles import Role
from provenant.db import Database
from provenant.email import outbox
from provenant.errors import Conflict, Forbidden, ProvenantError, Unauthenticated
from provenant.models import Org, RevokedToken, User
from provenant.sign_in import domains as sso_domains


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    user: User
    org: Org


@dataclass(frozen=True, slots=True)
class MfaChallenge:
    """The password was right; the account has two-factor sign-in on (POST /api/auth/login/2fa goes on)."""

    mfa_token: str
    methods: tuple[str, ...] = ("totp", "recovery_code")
    mfa_required: bool = True


def email_key(email: str) -> str:
    """Emails compare case-insensitively: this is the form stored in the unique column."""
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email_key == email_key(email))).one_or_none()


def sign_in(user: User, org: Org, *, secret: str) -> SignedIn:
    token = security.issue_jwt(user.id, secret, datetime.now(UTC), generation=user.token_generation)
    return SignedIn(token=token, user=user, org=org)


async def check_password(
    database: Database,
    actor: Actor,
    limiter: AttemptLimiter,
    account: User | None,
    *,
    email: str,
    password: str,
    refusal: ProvenantError,
    via: str | None = None,
    usable: bool = True,
) -> Attempt:
    """The one way a password is tried: counted as a sign-in attempt of ``email`` from the actor's address
    before argon2 runs (429 ``too_many_attempts`` past the limits), then checked against ``account`` (None:
    no such account, checked against a hash nobody knows the password of, in the same time). A wrong one, or
    any for an account that may not sign in (``usable`` false: removed from its org), stays counted, writes
    ``auth.login_failed`` (``via`` names what was tried, beside a sign-in) in a transaction of its own, kept
    although the request fails, and raises ``refusal``. A right one answers the attempt, still counted: the
    caller gives it back (``succeeded``, or ``released`` while a second factor is due).

    ``account`` is read before, in a transaction that has ended: nothing is held while argon2 runs."""
    attempt = await limiter.reserve_sign_in(email_key(email), actor.ip_address)
    right = await passwords.verify_password(account.password_hash if account else None, password)
    if right and usable and account is not None:
        return attempt
    after = {"email": email.strip()[:320]} | ({"via": via} if via else {})
    with database.transaction() as writing:
        audit.record(
            writing,
            actor,
            AuditAction.AUTH_LOGIN_FAILED,
            resource_type="user",
            resource_id=account.id if account else None,
            after=after,
            org_id=account.org_id if account else None,
            user_id=account.id if account else None,
        )
    raise refusal


def register(
    session: Session,
    actor: Actor,
    *,
    signup_open: bool,
    name: str,
    email: str,
    password_hash: str,
    org_name: str,
    org_slug: str,
    secret: str,
) -> SignedIn:
    """The password arrives hashed: argon2 is slow on purpose and must not run inside a transaction
    (on SQLite this one holds the database's write lock from its first statement to its commit).
    With ``PROVENANT_SIGNUP=invite-only`` (``signup_open`` false), 403 ``signup_disabled``."""
    if not signup_open:
        raise Forbidden(
            "This server does not take new registrations; ask an organization's OWNER or ADMIN to invite you.",
            code="signup_disabled",
        )
    if find_user_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists.", code="email_taken")
    if session.scalars(select(Org.id).where(Org.slug == org_slug)).first() is not None:
        raise Conflict("This organization slug is taken.", code="slug_taken")
    user, org = create_org_with_owner(
        session, actor, org_name=org_name, org_slug=org_slug, name=name, email=email, password_hash=password_hash
    )
    return sign_in(user, org, secret=secret)


def create_org_with_owner(
    session: Session,
    actor: Actor,
    *,
    org_name: str,
    org_slug: str,
    name: str,
    email: str,
    password_hash: str,
    via: str | None = None,
) -> tuple[User, Org]:
    """A new organization and its OWNER, audited as ``auth.register``. Conflict when a concurrent registration
    won the race for the email or the slug."""
    org = Org(name=org_name, slug=org_slug)
    user = User(
        name=name,
        email=email.strip(),
        email_key=email_key(email),
        password_hash=password_hash,
        role=Role.OWNER.value,
    )
    try:
        with session.begin_nested():
            session.add(org)
            session.flush()
            user.org_id = org.id
            session.add(user)
            session.flush()
    except IntegrityError:
        raise Conflict("An account with this email or organization slug already exists.") from None
    after = {"userId": user.id, "email": user.email, "orgId": org.id, "orgSlug": org.slug}
    audit.record(
        session,
        actor,
        AuditAction.AUTH_REGISTER,
        resource_type="user",
        resource_id=user.id,
        after=after if via is None else after | {"via": via},
        org_id=org.id,
        user_id=user.id,
    )
    return user, org


async def login(
    database: Database,
    session: Session,
    actor: Actor,
    limiter: AttemptLimiter,
    *,
    email: str,
    password: str,
    secret: str,
) -> SignedIn | MfaChallenge:
    """The same 401 for an unknown email and a wrong password, after the same argon2 work; the same
    429 for both once the account (from this address) or the address has failed too often.

    The account is read in a short transaction of its own and the password checked after it, in a
    thread, so nothing is held while argon2 runs; the sign-in is then written in ``session``.

    An account with two-factor sign-in on gets an mfaToken instead of a session (provenant.two_factor
    finishes the sign-in). Its failure count is left as it is until then: clearing it at the right
    password would give whoever has the password endless tries at codes, five per mfaToken.
    """
    with database.transaction(writes=False) as reading:
        sso_domains.refuse_password_if_enforced(reading, email)  # 403 sso_required, before any guess counts
        user = find_user_by_email(reading, email)
        org = reading.get(Org, user.org_id) if user and user.org_id else None
    attempt = await check_password(
        database,
        actor,
        limiter,
        user,
        email=email,
        password=password,
        usable=org is not None,
        refusal=Unauthenticated("Invalid email or password.", code="invalid_credentials"),
    )
    assert user is not None and org is not None
    # The attempt is given back (in a transaction of its own) before ``session`` writes anything: on SQLite
    # the request's first write takes the database's one write lock until its commit, which the give-back
    # would then wait for, in vain.
    if user.two_factor:
        await attempt.released()
    else:
        await attempt.succeeded()
    rehashed = await passwords.rehash_if_outdated(user.password_hash, password)
    if rehashed is not None:
        session.execute(update(User).where(User.id == user.id).values(password_hash=rehashed))
    if user.two_factor:
        token = security.issue_mfa_token(user.id, secret, datetime.now(UTC), generation=user.token_generation)
        return MfaChallenge(token)
    audit.record(
        session,
        actor,
        AuditAction.AUTH_LOGIN,
        resource_type="user",
        resource_id=user.id,
        org_id=org.id,
        user_id=user.id,
    )
    return sign_in(user, org, secret=secret)


def logout(session: Session, caller: Principal, *, token: security.JwtClaims | None) -> None:
    """Ends the JWT the caller signed in with (``token``): its ``jti`` is refused until it expires.

    With an API key (``token`` None) nothing is ended: keys are revoked one by one, on purpose.
    """
    if token is not None:
        revoke_token(session, caller.user_id, token, now=datetime.now(UTC))
    audit.record(session, caller, AuditAction.AUTH_LOGOUT, resource_type="user", resource_id=caller.user_id)


def revoke_token(session: Session, user_id: str, token: security.JwtClaims, *, now: datetime) -> None:
    # The denylist only needs a token until it would have expired anyway: sweep those rows as we go.
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    try:
        with session.begin_nested():
            expires_at = datetime.fromtimestamp(token.expires_at, UTC)
            session.add(RevokedToken(jti=token.token_id, user_id=user_id, expires_at=expires_at))
    except IntegrityError:
        pass  # a concurrent logout with the same token got there first: it is revoked either way


def logout_all(session: Session, caller: Principal) -> None:
    """Moves the caller's token generation on: every JWT issued to them so far answers ``token_revoked``."""
    session.execute(
        update(User)
        .where(User.id == caller.user_id)
        .values(token_generation=User.token_generation + 1)
        .execution_options(synchronize_session=False)
    )
    audit.record(session, caller, AuditAction.AUTH_LOGOUT_ALL, resource_type="user", resource_id=caller.user_id)


async def confirm_password(
    database: Database, caller: Principal, limiter: AttemptLimiter, *, password: str, via: str, what: str = "password"
) -> str:
    """Checks that ``password`` is the signed-in caller's, before a change that needs it (``via`` names the
    change in the audit log); answers the hash that was checked. A wrong one counts as a failed sign-in, so
    that a stolen JWT is no way to guess the password: 403 ``invalid_credentials``, or 429 past the limits."""
    with database.transaction(writes=False) as reading:
        user = reading.get_one(User, caller.user_id)
    attempt = await check_password(
        database,
        caller,
        limiter,
        user,
        email=caller.email,
        password=password,
        via=via,
        refusal=Forbidden(f"The {what} is not right; nothing was changed.", code="invalid_credentials"),
    )
    await attempt.succeeded()
    return user.password_hash


async def change_password(
    database: Database,
    session: Session,
    caller: Principal,
    limiter: AttemptLimiter,
    *,
    current_password: str,
    new_password: str,
    secret: str,
) -> SignedIn:
    """Checks ``current_password``, stores ``new_password`` and ends every older JWT of the caller;
    returns a fresh one. argon2 runs like login's: between a short read and the request's writes.

    A wrong current password counts as a failed sign-in: a stolen JWT is no way to guess the password.
    """
    old_hash = await confirm_password(
        database, caller, limiter, password=current_password, via="password-change", what="current password"
    )
    new_hash = await passwords.hash_password(new_password)
    # Only over the hash that was checked: a change that won meanwhile is not silently overwritten.
    changed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(User)
        .where(User.id == caller.user_id, User.password_hash == old_hash)
        .values(token_generation=User.token_generation + 1, password_hash=new_hash)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        raise Conflict("The password was changed meanwhile; sign in again with the new one.")
    user = session.get_one(User, caller.user_id)
    org = session.get_one(Org, user.org_id)
    audit.record(session, caller, AuditAction.AUTH_PASSWORD_CHANGED, resource_type="user", resource_id=caller.user_id)
    outbox.enqueue(
        session, to=user.email, template="password_changed", context={"name": user.name, "email": user.email}
    )
    return sign_in(user, org, secret=secret)
