"""The people of an org: members and their roles, invitations in, removal out.

Every membership change starts with ``_serialize_membership``: an UPDATE of the org's
``membership_version``, which holds the org's row lock on PostgreSQL (and, on SQLite, the
database write lock its writing transactions take up front) until commit. Checks made after it,
such as "is this the last OWNER?" or "is this invitation still open?", cannot race another change
of the same org, in this process or any other. The caller's role is read again under the lock:
an OWNER demoted a moment ago no longer acts as one.

A removed person keeps their account with ``org_id`` and ``role`` NULL; authentication then
answers 401 for their JWT and ``api_key_owner_removed`` for their keys, which stay listed for the
org to revoke. Their agents and sessions belong to the org and stay with it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from provenant.accounts import password_reset, passwords
from provenant.accounts.service import SignedIn, email_key, find_user_by_email, sign_in
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth import security
from provenant.auth.attempts import AttemptLimiter
from provenant.auth.encryption import EncryptionKey
from provenant.auth.principal import Actor, Principal
from provenant.auth.roles import Role, can_change_role, can_grant, can_issue_password_reset, can_remove
from provenant.db import Database
from provenant.email import outbox
from provenant.errors import Conflict, Forbidden, Gone, NotFound, Unauthenticated, ValidationFailed
from provenant.models import ApiKey, Invitation, Org, User
from provenant.team import quota
from provenant.two_factor import service as two_factor

INVITATION_LIFETIME = timedelta(days=7)

# Why an ADMIN was refused (roles.py decides; these only say it).
_ADMIN_RULES = {
    "change_role": "An ADMIN can only move MEMBERs and VIEWERs between those two roles.",
    "remove": "An ADMIN cannot remove an OWNER or another ADMIN.",
    "invite": "An ADMIN can invite MEMBERs and VIEWERs only.",
    "cancel": "An ADMIN cannot cancel an invitation to join as ADMIN.",
    "reset": "An ADMIN can issue reset links for MEMBERs and VIEWERs only.",
}


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """The only object that carries the link; the token in it is stored as its SHA-256 alone."""

    id: str
    email: str
    role: str
    expires_at: datetime
    invite_link: str


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


# --- serialization and shared checks ------------------------------------------------------------


def _serialize_membership(session: Session, *org_ids: str | None) -> None:
    """Take the membership lock of each org, in one global order (no deadlock between two orgs),
    and forget what was read before it."""
    for org_id in sorted({org_id for org_id in org_ids if org_id}):
        session.execute(
            update(Org)
            .where(Org.id == org_id)
            .values(membership_version=Org.membership_version + 1)
            .execution_options(synchronize_session=False)
        )
    session.expire_all()


def _acting_role(session: Session, caller: Principal) -> Role:
    """The caller's role as it is now, under the lock, not as it was when the request began."""
    role = session.scalar(select(User.role).where(User.id == caller.user_id, User.org_id == caller.org_id))
    if role is None:
        raise Forbidden("You are no longer a member of this organization.")
    return Role(role)


def _member(session: Session, org_id: str, user_id: str) -> tuple[User, Role]:
    member = session.scalars(select(User).where(User.id == user_id, User.org_id == org_id)).one_or_none()
    if member is None or member.role is None:
        raise NotFound("Member")
    return member, Role(member.role)


def _owner_count(session: Session, org_id: str) -> int:
    owners = select(func.count()).where(User.org_id == org_id, User.role == Role.OWNER.value)
    return session.scalar(owners) or 0


def _keep_an_owner(session: Session, org_id: str) -> None:
    """Refuse a change that would take away the org's last OWNER."""
    if _owner_count(session, org_id) <= 1:
        raise Conflict(
            "An organization must keep at least one OWNER: make someone else an OWNER first.",
            code="last_owner",
        )


def _pending(now: datetime) -> ColumnElement[bool]:
    return and_(
        Invitation.accepted_at.is_(None), Invitation.cancelled_at.is_(None), Invitation.expires_at > now
    )


# --- members ------------------------------------------------------------------------------------


def list_members(session: Session, caller: Principal) -> list[User]:
    query = select(User).where(User.org_id == caller.org_id).order_by(User.created_at, User.id)
    return list(session.scalars(query))


def change_role(session: Session, caller: Principal, *, user_id: str, role: Role) -> User:
    """OWNER: any role; ADMIN: MEMBER ↔ VIEWER of non-admins. The org keeps an OWNER."""
    _serialize_membership(session, caller.org_id)
    acting_role = _acting_role(session, caller)
    member, current = _member(session, caller.org_id, user_id)
    if not can_change_role(acting_role, current=current, new=role):
        raise Forbidden(_ADMIN_RULES["change_role"] if acting_role is Role.ADMIN else None)
    if current is role:
        return member
    if current is Role.OWNER:
        _keep_an_owner(session, caller.org_id)
    member.role = role.value
    audit.record(
        session, caller, AuditAction.TEAM_MEMBER_ROLE_CHANGED, resource_type="user", resource_id=member.id,
        before={"role": current.value}, after=audit.snapshot(member, "role"),
    )
    return member


def remove_member(session: Session, caller: Principal, *, user_id: str) -> None:
    """Access ends at once: the person's JWT and keys answer 401 on their next request."""
    if user_id == caller.user_id:
        raise Conflict("You cannot remove yourself from the organization.", code="cannot_remove_self")
    _serialize_membership(session, caller.org_id)
    acting_role = _acting_role(session, caller)
    member, role = _member(session, caller.org_id, user_id)
    if not can_remove(acting_role, target=role):
        raise Forbidden(_ADMIN_RULES["remove"] if acting_role is Role.ADMIN else None)
    if role is Role.OWNER:
        _keep_an_owner(session, caller.org_id)
    before = audit.snapshot(member, "name", "email", "role")
    member.org_id = None
    member.role = None
    audit.record(
        session, caller, AuditAction.TEAM_MEMBER_REMOVED, resource_type="user", resource_id=member.id,
        before=before,
    )


def issue_password_reset(
    session: Session, caller: Principal, *, user_id: str, link_origin: str
) -> password_reset.IssuedReset:
    """A reset link for another member, returned once (OWNER: anyone else; ADMIN: MEMBERs and VIEWERs); the
    member is emailed that it was issued (when email is configured), and the org's audit log records it."""
    if user_id == caller.user_id:
        raise Conflict("Change your own password on the Account page.", code="cannot_reset_self")
    _serialize_membership(session, caller.org_id)
    acting_role = _acting_role(session, caller)
    member, role = _member(session, caller.org_id, user_id)
    if not can_issue_password_reset(acting_role, target=role):
        raise Forbidden(_ADMIN_RULES["reset"] if acting_role is Role.ADMIN else None)
    password_reset.refuse_if_sso_enforced(session, member.email)
    issued = password_reset.issue(
        session, member, link_origin=link_origin, issued_by_id=caller.user_id, now=datetime.now(UTC)
    )
    audit.record(
        session, caller, AuditAction.TEAM_MEMBER_PASSWORD_RESET_ISSUED, resource_type="user", resource_id=member.id,
        after=audit.snapshot(member, "email", "role") | audit.snapshot(issued, "expires_at"),
    )
    outbox.enqueue(
        session,
        to=member.email,
        template="member_password_reset_issued",
        context={
            "name": member.name, "email": member.email, "issuer_name": caller.name, "org_name": caller.org_name,
        },
    )
    return issued


# --- invitations, as the org sees them ----------------------------------------------------------


def list_invitations(session: Session, caller: Principal) -> list[Invitation]:
    """Pending invitations (neither used, cancelled nor expired), newest first, with who sent them."""
    query = (
        select(Invitation)
        .options(joinedload(Invitation.invited_by))
        .where(Invitation.org_id == caller.org_id, _pending(datetime.now(UTC)))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    return list(session.scalars(query))


def invite(
    session: Session, caller: Principal, *, email: str, role: Role, link_origin: str
) -> IssuedInvitation:
    """A new pending invitation, replacing the email's previous one; the link is shown once. At most
    ``quota.INVITATIONS_PER_DAY`` per org in any 24 hours (429 beyond)."""
    _serialize_membership(session, caller.org_id)
    acting_role = _acting_role(session, caller)
    if not can_grant(acting_role, role):
        raise Forbidden(_ADMIN_RULES["invite"] if acting_role is Role.ADMIN else None)
    email = email.strip()
    key = email_key(email)
    if session.scalar(select(User.id).where(User.email_key == key, User.org_id == caller.org_id)) is not None:
        raise Conflict(f"{email} is already a member of this organization.", code="already_member")
    now = datetime.now(UTC)
    quota.require_invitation_quota(session, caller.org_id, now=now)
    replaced = session.scalars(
        select(Invitation).where(
            Invitation.org_id == caller.org_id, Invitation.email_key == key, _pending(now)
        )
    ).all()
    for previous in replaced:
        previous.cancelled_at = now
    token = security.generate_token()
    invitation = Invitation(
        org_id=caller.org_id,
        email=email,
        email_key=key,
        role=role.value,
        token_hash=security.hash_secret(token),
        invited_by_id=caller.user_id,
        expires_at=now + INVITATION_LIFETIME,
        created_at=now,
    )
    session.add(invitation)
    session.flush()
    after = audit.snapshot(invitation, "email", "role", "expires_at")
    if replaced:
        after["replacedInvitationIds"] = [previous.id for previous in replaced]
    audit.record(
        session, caller, AuditAction.TEAM_MEMBER_INVITED, resource_type="invitation",
        resource_id=invitation.id, after=after,
    )
    invite_link = f"{link_origin}/accept-invitation?token={token}"
    outbox.enqueue(
        session,
        to=invitation.email,
        template="invitation",
        context={
            "inviter_name": caller.name, "org_name": caller.org_name, "role": role.value, "link": invite_link,
            "expires_at": invitation.expires_at.strftime("%d %B %Y, %H:%M UTC"),
        },
    )
    return IssuedInvitation(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        expires_at=invitation.expires_at,
        invite_link=invite_link,
    )


def cancel_invitation(session: Session, caller: Principal, *, invitation_id: str) -> None:
    """The link stops working at once. Cancelling twice is fine; a used invitation cannot be undone."""
    _serialize_membership(session, caller.org_id)
    acting_role = _acting_role(session, caller)
    invitation = session.scalars(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.org_id == caller.org_id)
    ).one_or_none()
    if invitation is None:
        raise NotFound("Invitation")
    if invitation.accepted_at is not None:
        raise Conflict(
            "This invitation has already been accepted; remove the member instead.", code="invitation_used"
        )
    if invitation.cancelled_at is not None:
        return
    if not can_grant(acting_role, Role(invitation.role)):
        raise Forbidden(_ADMIN_RULES["cancel"] if acting_role is Role.ADMIN else None)
    invitation.cancelled_at = datetime.now(UTC)
    audit.record(
        session, caller, AuditAction.TEAM_INVITATION_CANCELLED, resource_type="invitation",
        resource_id=invitation.id, before=audit.snapshot(invitation, "email", "role"),
        after=audit.snapshot(invitation, "cancelled_at"),
    )


# --- invitations, as the invited person sees them -----------------------------------------------


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

    Nobody joins an org, nor moves an account, without the account's password. The invitation and
    the account are read in a short transaction of their own and the password hashed or checked
    after it, in a thread, so nothing is held while argon2 runs; the change is then made in
    ``session``, under the orgs' membership locks, after checking that nothing moved meanwhile.
    """
    now = datetime.now(UTC)
    with database.transaction(writes=False) as reading:
        invitation = _open_invitation(reading, token, now)
        account = find_user_by_email(reading, invitation.email)
    password_hash = None
    attempt = None
    if account is not None:  # proving an existing account's password is a sign-in, limited like one
        attempt = await limiter.reserve_sign_in(account.email_key, actor.ip_address)
    if account is None:
        _require_new_account_fields(name, password)
        password_hash = await passwords.hash_password(password)
    elif not await passwords.verify_password(account.password_hash, password):
        with database.transaction() as writing:  # kept although the request fails
            _record_failed_attempt(writing, actor, account)
        raise Unauthenticated(
            "This email already has an account, and that is not its password. Nothing was changed.",
            code="invalid_credentials",
        )
    elif account.two_factor:  # the password alone does not move an account that signs in with two factors
        if code is None:
            assert attempt is not None
            await attempt.released()  # a right password, the code still to come: no failure
            raise Unauthenticated(
                "This account signs in with two factors: enter the code from your authenticator app, or a "
                "recovery code, too.",
                code="two_factor_code_required",
            )
        two_factor.check_second_factor(database, actor, account, code, key=key, now=now, via="accept-invitation")
    if attempt is not None:
        await attempt.succeeded()
    account_id, old_org_id = (account.id, account.org_id) if account else (None, None)

    _serialize_membership(session, invitation.org_id, old_org_id)
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
        session, actor, AuditAction.TEAM_INVITATION_ACCEPTED, resource_type="invitation",
        resource_id=invitation.id,
        after={
            "userId": account.id, "email": account.email, "role": invitation.role,
            "newAccount": account_id is None,
        },
        org_id=org.id, user_id=account.id,
    )
    return Accepted(signed_in=sign_in(account, org, secret=secret), new_account=account_id is None)


def _require_new_account_fields(name: str | None, password: str) -> None:
    if name is None:
        raise ValidationFailed("name", "is required to create an account")
    # Checked here, not in the schema: the same field carries an existing account's password.
    problem = passwords.new_password_problem(password)
    if problem:
        raise ValidationFailed("password", problem)


def _record_failed_attempt(session: Session, actor: Actor, account: User) -> None:
    """Seen by the account's own org, like a failed login."""
    audit.record(
        session, actor, AuditAction.AUTH_LOGIN_FAILED, resource_type="user", resource_id=account.id,
        after={"email": account.email, "via": "accept-invitation"}, org_id=account.org_id, user_id=account.id,
    )


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
        raise Conflict(
            "An account with this email was just created; accept again with its password."
        ) from None
    return account


def _move_account(
    session: Session, actor: Actor, account: User, invitation: Invitation, *, now: datetime
) -> None:
    """A user belongs to one org: leaving the old one must leave it an OWNER."""
    if account.org_id == invitation.org_id:
        raise Conflict("You are already a member of this organization.", code="already_member")
    if account.org_id is not None:
        old_org = session.get_one(Org, account.org_id)
        if account.role == Role.OWNER.value and _owner_count(session, old_org.id) <= 1:
            raise Conflict(
                f"You are the last OWNER of {old_org.name}, which must keep one: make another member "
                "an OWNER there before joining another organization.",
                code="last_owner",
            )
        audit.record(
            session, actor, AuditAction.TEAM_MEMBER_LEFT, resource_type="user", resource_id=account.id,
            before={"role": account.role}, after={"reason": "joined another organization"},
            org_id=account.org_id, user_id=account.id,
        )
    account.org_id = invitation.org_id
    account.role = invitation.role
    _revoke_keys_of_earlier_membership(session, actor, account, now=now)


def _revoke_keys_of_earlier_membership(
    session: Session, actor: Actor, account: User, *, now: datetime
) -> None:
    """Keys the person made in this org before they were removed stay dead when they come back."""
    keys = session.scalars(
        select(ApiKey).where(
            ApiKey.user_id == account.id, ApiKey.org_id == account.org_id, ApiKey.revoked_at.is_(None)
        )
    ).all()
    for key in keys:
        key.revoked_at = now
        key.revoked_reason = "revoked"
        audit.record(
            session, actor, AuditAction.APIKEY_REVOKE, resource_type="api_key", resource_id=key.id,
            after=audit.snapshot(key, "id", "name", "key_prefix", "revoked_at", reason="owner rejoined"),
            org_id=account.org_id, user_id=account.id,
        )
