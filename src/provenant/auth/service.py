"""Accounts: register, log in, log out. Plain functions over a session; no HTTP here."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth import passwords, security
from provenant.auth.principal import Actor, Principal
from provenant.auth.roles import Role
from provenant.db import Database
from provenant.errors import Conflict, Unauthenticated
from provenant.models import Org, User


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    user: User
    org: Org


def email_key(email: str) -> str:
    """Emails compare case-insensitively: this is the form stored in the unique column."""
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email_key == email_key(email))).one_or_none()


def sign_in(user: User, org: Org, *, secret: str) -> SignedIn:
    return SignedIn(token=security.issue_jwt(user.id, secret, datetime.now(UTC)), user=user, org=org)


def register(
    session: Session,
    actor: Actor,
    *,
    name: str,
    email: str,
    password_hash: str,
    org_name: str,
    org_slug: str,
    secret: str,
) -> SignedIn:
    """The password arrives hashed: argon2 is slow on purpose and must not run inside a transaction
    (on SQLite this one holds the database's write lock from its first statement to its commit)."""
    if find_user_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists.", code="email_taken")
    if session.scalars(select(Org.id).where(Org.slug == org_slug)).first() is not None:
        raise Conflict("This organization slug is taken.", code="slug_taken")
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
        # A concurrent registration won the race for the email or the slug.
        raise Conflict("An account with this email or organization slug already exists.") from None
    audit.record(
        session,
        actor,
        AuditAction.AUTH_REGISTER,
        resource_type="user",
        resource_id=user.id,
        after={"userId": user.id, "email": user.email, "orgId": org.id, "orgSlug": org.slug},
        org_id=org.id,
        user_id=user.id,
    )
    return sign_in(user, org, secret=secret)


async def login(
    database: Database, session: Session, actor: Actor, *, email: str, password: str, secret: str
) -> SignedIn:
    """The same 401 for an unknown email and a wrong password, after the same argon2 work.

    The account is read in a short transaction of its own and the password checked after it, in a
    thread, so nothing is held while argon2 runs; the sign-in is then written in ``session``.
    """
    with database.transaction(writes=False) as reading:
        user = find_user_by_email(reading, email)
        org = reading.get(Org, user.org_id) if user and user.org_id else None
    password_ok = await passwords.verify_password(user.password_hash if user else None, password)
    if user is None or org is None or not password_ok:
        # The failed attempt is itself the event: its entry is kept although the request fails.
        with database.transaction() as writing:
            audit.record(
                writing,
                actor,
                AuditAction.AUTH_LOGIN_FAILED,
                resource_type="user",
                resource_id=user.id if user else None,
                after={"email": email.strip()[:320]},
                org_id=org.id if org else None,
                user_id=user.id if user else None,
            )
        raise Unauthenticated("Invalid email or password.", code="invalid_credentials")
    rehashed = await passwords.rehash_if_outdated(user.password_hash, password)
    if rehashed is not None:
        session.execute(update(User).where(User.id == user.id).values(password_hash=rehashed))
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


def logout(session: Session, caller: Principal) -> None:
    """JWTs cannot be revoked one by one (see the user document); the client forgets its token."""
    audit.record(session, caller, AuditAction.AUTH_LOGOUT, resource_type="user", resource_id=caller.user_id)
