"""Invitations, as the org sees them: the pending list, inviting, cancelling.

An invitation's token is shown once, in its link, and stored as its SHA-256 alone; the invited person
uses it through team.accepting. Every change runs under the org's membership lock (team.membership_lock).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, joinedload

from provenant.accounts.service import email_key
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth import security
from provenant.auth.principal import Principal
from provenant.auth.roles import Role, can_grant
from provenant.email import outbox
from provenant.errors import Conflict, NotFound
from provenant.models import Invitation, User
from provenant.team import quota
from provenant.team.membership_lock import acting_role, refused, serialize_membership

INVITATION_LIFETIME = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """The only object that carries the link; the token in it is stored as its SHA-256 alone."""

    id: str
    email: str
    role: str
    expires_at: datetime
    invite_link: str


def _pending(now: datetime) -> ColumnElement[bool]:
    return and_(Invitation.accepted_at.is_(None), Invitation.cancelled_at.is_(None), Invitation.expires_at > now)


def list_invitations(session: Session, caller: Principal) -> list[Invitation]:
    """Pending invitations (neither used, cancelled nor expired), newest first, with who sent them."""
    query = (
        select(Invitation)
        .options(joinedload(Invitation.invited_by))
        .where(Invitation.org_id == caller.org_id, _pending(datetime.now(UTC)))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    return list(session.scalars(query))


def invite(session: Session, caller: Principal, *, email: str, role: Role, link_origin: str) -> IssuedInvitation:
    """A new pending invitation, replacing the email's previous one; the link is shown once. At most
    ``quota.INVITATIONS_PER_DAY`` per org in any 24 hours (429 beyond)."""
    serialize_membership(session, caller.org_id)
    acting = acting_role(session, caller)
    if not can_grant(acting, role):
        raise refused(acting, "An ADMIN can invite MEMBERs and VIEWERs only.")
    email = email.strip()
    key = email_key(email)
    if session.scalar(select(User.id).where(User.email_key == key, User.org_id == caller.org_id)) is not None:
        raise Conflict(f"{email} is already a member of this organization.", code="already_member")
    now = datetime.now(UTC)
    quota.require_invitation_quota(session, caller.org_id, now=now)
    replaced = session.scalars(
        select(Invitation).where(Invitation.org_id == caller.org_id, Invitation.email_key == key, _pending(now))
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
        session,
        caller,
        AuditAction.TEAM_MEMBER_INVITED,
        resource_type="invitation",
        resource_id=invitation.id,
        after=after,
    )
    invite_link = f"{link_origin}/accept-invitation?token={token}"
    outbox.enqueue(
        session,
        to=invitation.email,
        template="invitation",
        context={
            "inviter_name": caller.name,
            "org_name": caller.org_name,
            "role": role.value,
            "link": invite_link,
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
    serialize_membership(session, caller.org_id)
    acting = acting_role(session, caller)
    invitation = session.scalars(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.org_id == caller.org_id)
    ).one_or_none()
    if invitation is None:
        raise NotFound("Invitation")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation has already been accepted; remove the member instead.", code="invitation_used")
    if invitation.cancelled_at is not None:
        return
    if not can_grant(acting, Role(invitation.role)):
        raise refused(acting, "An ADMIN cannot cancel an invitation to join as ADMIN.")
    invitation.cancelled_at = datetime.now(UTC)
    audit.record(
        session,
        caller,
        AuditAction.TEAM_INVITATION_CANCELLED,
        resource_type="invitation",
        resource_id=invitation.id,
        before=audit.snapshot(invitation, "email", "role"),
        after=audit.snapshot(invitation, "cancelled_at"),
    )
