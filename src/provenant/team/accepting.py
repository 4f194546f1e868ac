"""Invitations, as the invited person sees them: what the link offers, and accepting it.

Accepting creates an account for the invited email, or moves the existing account into the org once
it has proved its password (and its second factor, when on): nobody joins an org, nor moves an
account, without the account's password. An email whose domain signs in with single sign-on only
(enforced) accepts nothing with a password: it answers 403 ``sso_required``, as sign-in does.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provenant.accounts import passwords
from provenant.accounts.service import SignedIn, check_password, find_user_by_email, sign_in
from provenant.api_keys import service as api_keys
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth import security
from provenant.auth.attempts import AttemptLimiter
from provenant.auth.encryption import EncryptionKey
from provenant.auth.principal import Actor
from provenant.auth.roles import Role
from provenant.db import Database
from provenant.errors import Conflict, Gone, NotFound, Unauthenticated, ValidationFailed
from provenant.models import ApiKey, Invitation, Org, User
from provenant.sign_in import domains as sso_domains
from provenant.team.membership_lock import owner_count, serialize_membership
from provenant.two_factor import service as two_factor


@dataclass(frozen=True, slots=True)
class InvitationPreview:
    email: str
    role: str
    org: dict[str, str]
    existing_account: bool


@dataclass(frozen=True, slots=True)
class Accepted:
    signed_in: SignedIn
    new_account: bool


def _open_invitation(session: Session, token: str, now: datetime) -> Invitation:
    """404 for a token we never issued; 410 for one that was used, cancelled or has expired."""
    invitation = session.scalars(
        select(Invitation).where(Invitation.token_hash == security.hash_secret(token))
    ).one_or_none()
    if invitation is None:
        raise NotFound("Invitation")
    if invitation.accepted_at is not None:
        raise Gone("This invitation has already been used.", code="invitation_used")
    if invitation.cancelled_at is not None:
        raise Gone("This invitation was cancelled.", code="invitation_cancelled")
    if now >= invitation.expires_at:
        raise Gone("This invitation has expired; ask for a new one.", code="invitation_expired")
    return invitation


def preview_invitation(session: Session, *, token: str) -> InvitationPreview:
    invitation = _open_invitation(session, token, datetime.now(UTC))
    org = session.get_one(Org, invitation.org_id)
    return InvitationPreview(
        email=invitation.email,
        role=invitation.role,
        org={"name": org.name},
        existing_account=find_user_by_email(session, invitation.email) is not None,
    )


async def accept_invitation(
    database: Database,
    session: Session,
    actor: Actor,
    limiter: AttemptLimiter,
    *,
    token: str,
    name: str | None,
    password: str,
    code: str | None,
    secret: str,
    key: EncryptionKey,
) -> Accepted:
    """A new account for the invited email, or the existing one after it proves its password.

    The invitation and the account are read in a short transaction of their own and the password
    hashed or checked after it, in a thread, so nothing is held while argon2 runs; the change is then
    made in ``session``, under the orgs' membership locks, after checking that nothing moved meanwhile.
    """
    now = datetime.now(UTC)
    with database.transaction(writes=False) as reading:
        invitation = _open_invitation(reading, token, now)
        # Accepting signs in with a password: not for an email whose org's provider is the only way in.
        sso_domains.refuse_password_if_enforced(reading, invitation.email)
        account = find_user_by_email(reading, invitation.email)
    password_hash = None
    if account is None:
        _require_new_account_fields(name, password)
        password_hash = await passwords.hash_password(password)
    else:
        await _prove_account(database, actor, limiter, account, password=password, code=code, key=key, now=now)
    account_id, old_org_id = (account.id, account.org_id) if account else (None, None)

    serialize_membership(session, invitation.org_id, old_org_id)
    invitation = _open_invitation(session, token, now)  # used or cancelled while the password was checked?
    account = find_user_by_email(session, invitation.email)
    if (account.id if account else None) != account_id or (account and account.org_id != old_org_id):
        raise Conflict("The account changed while the invitation was being accepted; try again.")
    org = session.get_one(Org, invitation.org_id)
    if account is None:
        assert password_hash is not None and name is not None
        account = _create_account(session, invitation, name=name, password_hash=password_hash)
    else:
        _move_account(session, actor, account, invitation, now=now)
    invitation.accepted_at = now
    audit.record(
        session,
        actor,
        AuditAction.TEAM_INVITATION_ACCEPTED,
        resource_type="invitation",
        resource_id=invitation.id,
        after={
            "userId": account.id,
            "email": account.email,
            "role": invitation.role,
            "newAccount": account_id is None,
        },
        org_id=org.id,
        user_id=account.id,
    )
    return Accepted(signed_in=sign_in(account, org, secret=secret), new_account=account_id is None)


async def _prove_account(
    database: Database,
    actor: Actor,
    limiter: AttemptLimiter,
    account: User,
    *,
    password: str,
    code: str | None,
    key: EncryptionKey,
    now: datetime,
) -> None:
    """The existing account's password, and its second factor when it has one: a sign-in, limited and
    recorded like one (seen by the account's own org)."""
    attempt = await check_password(
        database,
        actor,
        limiter,
        account,
        email=account.email,
        password=password,
        via="accept-invitation",
        refusal=Unauthenticated(
            "This email already has an account, and that is not its password. Nothing was changed.",
            code="invalid_credentials",
        ),
    )
    if account.two_factor:  # the password alone does not move an account that signs in with two factors
        if code is None:
            await attempt.released()  # a right password, the code still to come: no failure
            raise Unauthenticated(
                "This account signs in with two factors: enter the code from your authenticator app, or a "
                "recovery code, too.",
                code="two_factor_code_required",
            )
        two_factor.check_second_factor(database, actor, account, code, key=key, now=now, via="accept-invitation")
    await attempt.succeeded()


def _require_new_account_fields(name: str | None, password: str) -> None:
    if name is None:
        raise ValidationFailed("name", "is required to create an account")
    # Checked here, not in the schema: the same field carries an existing account's password.
    problem = passwords.new_password_problem(password)
    if problem:
        raise ValidationFailed("password", problem)


def _create_account(session: Session, invitation: Invitation, *, name: str, password_hash: str) -> User:
    account = User(
        org_id=invitation.org_id,
        role=invitation.role,
        name=name,
        email=invitation.email,
        email_key=invitation.email_key,
        password_hash=password_hash,
    )
    try:
        with session.begin_nested():
            session.add(account)
    except IntegrityError:
        # Someone registered this email since the invitation was opened.
        raise Conflict("An account with this email was just created; accept again with its password.") from None
    return account


def _move_account(session: Session, actor: Actor, account: User, invitation: Invitation, *, now: datetime) -> None:
    """A user belongs to one org: leaving the old one must leave it an OWNER."""
    if account.org_id == invitation.org_id:
        raise Conflict("You are already a member of this organization.", code="already_member")
    if account.org_id is not None:
        old_org = session.get_one(Org, account.org_id)
        if account.role == Role.OWNER.value and owner_count(session, old_org.id) <= 1:
            raise Conflict(
                f"You are the last OWNER of {old_org.name}, which must keep one: make another member "
                "an OWNER there before joining another organization.",
                code="last_owner",
            )
        audit.record(
            session,
            actor,
            AuditAction.TEAM_MEMBER_LEFT,
            resource_type="user",
            resource_id=account.id,
            before={"role": account.role},
            after={"reason": "joined another organization"},
            org_id=account.org_id,
            user_id=account.id,
        )
    account.org_id = invitation.org_id
    account.role = invitation.role
    revoke_keys_of_earlier_membership(session, actor, account, now=now)


def revoke_keys_of_earlier_membership(session: Session, actor: Actor, account: User, *, now: datetime) -> None:
    """Keys the person made in this org before they were removed stay dead when they come back."""
    keys = session.scalars(
        select(ApiKey).where(ApiKey.user_id == account.id, ApiKey.org_id == account.org_id, ApiKey.revoked_at.is_(None))
    ).all()
    for key in keys:
        api_keys.revoke(session, actor, key, now=now, user_id=account.id)
