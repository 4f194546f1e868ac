"""Who a provider's sign-in is: the account it signs in, linked or created here, by the rules of the
contract and of what an IT administrator expects.

Single sign-on signs in, for an email of a domain the org claims and that the provider says is verified:
- a member of the org with that email (linked by the email);
- a person removed from this org (their last org), back with the default role;
- nobody yet: a new member with the default role, and no password (they sign in through the provider).
Anyone else with that email (a member of another org) is refused: a domain claim is made by an OWNER
without proof that they own the domain, so it never takes an account out of another org; an invitation does.

GitHub signs in the account linked to the GitHub user id; else the account with the primary, verified
GitHub email (linked from then on); else, when sign-up is open, a new person with an organization of their
own. Never an account, or a GitHub email, of a domain under enforced single sign-on.
"""

import re
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provenant.accounts.service import create_org_with_owner, email_key, find_user_by_email
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth.principal import Actor
from provenant.errors import Conflict
from provenant.models import AuditEntry, ExternalIdentity, SsoConfig, User
from provenant.sign_in import domains
from provenant.sign_in.refusals import SignInRefused
from provenant.team.accepting import revoke_keys_of_earlier_membership

# The password hash of an account that has none: ``verify_password`` checks "" against a hash nobody knows
# the password of, so signing in with any password fails, after the same work as a wrong one.
NO_PASSWORD = ""
GITHUB = "github"


def _last_org_id(session: Session, user_id: str) -> str | None:
    """The org a person without one last left or was removed from, as the audit log recorded it."""
    return session.scalar(
        select(AuditEntry.org_id)
        .where(
            AuditEntry.resource_id == user_id,
            AuditEntry.action.in_([AuditAction.TEAM_MEMBER_REMOVED.value, AuditAction.TEAM_MEMBER_LEFT.value]),
        )
        .order_by(AuditEntry.created_at.desc())
        .limit(1)
    )


def sso_member(session: Session, actor: Actor, config: SsoConfig, *, email: str, name: str | None) -> User:
    """The org's member this verified email signs in (SignInRefused when it may not)."""
    claimed_by = domains.claiming_config(session, email)
    if claimed_by is None or claimed_by.org_id != config.org_id:
        raise SignInRefused("email_domain_mismatch")
    now = datetime.now(UTC)
    user = find_user_by_email(session, email)
    joined = user is None or user.org_id is None
    if user is None:
        user = User(
            name=(name or email.partition("@")[0])[:200],
            email=email.strip(),
            email_key=email_key(email),
            password_hash=NO_PASSWORD,
            org_id=config.org_id,
            role=config.default_role,
            joined_through_sso=True,
        )
        try:
            with session.begin_nested():
                session.add(user)
                session.flush()
        except IntegrityError:
            # A concurrent first sign-in of the same person made the account: this one signs it in.
            user = find_user_by_email(session, email)
            if user is None or user.org_id != config.org_id:
                raise SignInRefused("account_in_another_org") from None
            joined = False
    elif user.org_id is None:
        if _last_org_id(session, user.id) != config.org_id:
            raise SignInRefused("account_in_another_org")
        user.org_id = config.org_id
        user.role = config.default_role
        user.joined_through_sso = True
        revoke_keys_of_earlier_membership(session, actor, user, now=now)
    elif user.org_id != config.org_id:
        raise SignInRefused("account_in_another_org")
    org_actor = Actor(org_id=config.org_id, user_id=user.id, ip_address=actor.ip_address, user_agent=actor.user_agent)
    if joined:
        audit.record(
            session,
            org_actor,
            AuditAction.TEAM_MEMBER_JOINED_SSO,
            resource_type="user",
            resource_id=user.id,
            after=audit.snapshot(user, "name", "email", "role", issuer=config.issuer),
        )
    audit.record(
        session,
        org_actor,
        AuditAction.AUTH_SSO_LOGIN,
        resource_type="user",
        resource_id=user.id,
        after={"email": user.email, "issuer": config.issuer},
    )
    return user


def _slug_for(login: str) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", login.lower()).strip("-")[:50] or "org"
    return f"{base}-{secrets.token_hex(3)}"


def github_account(
    session: Session, actor: Actor, *, github_id: int, login: str, name: str | None, email: str, signup_open: bool
) -> User:
    """The account this GitHub user signs in (SignInRefused when none may be)."""
    subject = str(github_id)
    user = session.scalars(
        select(User)
        .join(ExternalIdentity, ExternalIdentity.user_id == User.id)
        .where(ExternalIdentity.provider == GITHUB, ExternalIdentity.subject == subject)
    ).one_or_none()
    if user is None:
        if domains.is_enforced(session, email):
            raise SignInRefused("sso_required")
        user = find_user_by_email(session, email)
        if user is None:
            user = _new_github_person(session, actor, login=login, name=name, email=email, signup_open=signup_open)
        _link(session, user, subject)
        audit.record(
            session,
            actor,
            AuditAction.AUTH_GITHUB_LINKED,
            resource_type="user",
            resource_id=user.id,
            after={"githubId": subject, "githubLogin": login[:100]},
            org_id=user.org_id,
            user_id=user.id,
        )
    if domains.is_enforced(session, user.email):
        # Linked before the domain's SSO was enforced: the company's identity provider now decides who of the
        # domain gets in, and who no longer does.
        raise SignInRefused("sso_required")
    if user.org_id is None:
        raise SignInRefused("no_organization")
    audit.record(
        session,
        actor,
        AuditAction.AUTH_GITHUB_LOGIN,
        resource_type="user",
        resource_id=user.id,
        after={"githubId": subject, "githubLogin": login[:100]},
        org_id=user.org_id,
        user_id=user.id,
    )
    return user


def _link(session: Session, user: User, subject: str) -> None:
    try:
        with session.begin_nested():
            session.add(ExternalIdentity(provider=GITHUB, subject=subject, user_id=user.id))
            session.flush()
    except IntegrityError:
        raise SignInRefused("try_again") from None  # a concurrent first sign-in of the same GitHub user


def _new_github_person(
    session: Session, actor: Actor, *, login: str, name: str | None, email: str, signup_open: bool
) -> User:
    if not signup_open:
        raise SignInRefused("signup_disabled")
    display = (name or login)[:200]
    try:
        user, _org = create_org_with_owner(
            session,
            actor,
            org_name=f"{display}'s organization"[:200],
            org_slug=_slug_for(login),
            name=display,
            email=email,
            password_hash=NO_PASSWORD,
            via=GITHUB,
        )
    except Conflict:
        raise SignInRefused("try_again") from None
    return user
