"""The members of an org: who they are, their roles, removal, and reset links issued for them.

A removed person keeps their account with ``org_id`` and ``role`` NULL; authentication then answers
401 for their JWT and ``api_key_owner_removed`` for their keys, which stay listed for the org to revoke.
Their agents and sessions belong to the org and stay with it. Every change runs under the org's
membership lock (team.membership_lock).
"""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from provenant.accounts import password_reset
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth.principal import Principal
from provenant.auth.roles import Role, can_change_role, can_issue_password_reset, can_remove
from provenant.email import outbox
from provenant.errors import Conflict, NotFound
from provenant.models import User
from provenant.team.membership_lock import acting_role, keep_an_owner, refused, serialize_membership


def _member(session: Session, org_id: str, user_id: str) -> tuple[User, Role]:
    member = session.scalars(select(User).where(User.id == user_id, User.org_id == org_id)).one_or_none()
    if member is None or member.role is None:
        raise NotFound("Member")
    return member, Role(member.role)


def list_members(session: Session, caller: Principal) -> list[User]:
    query = select(User).where(User.org_id == caller.org_id).order_by(User.created_at, User.id)
    return list(session.scalars(query))


def change_role(session: Session, caller: Principal, *, user_id: str, role: Role) -> User:
    """OWNER: any role; ADMIN: MEMBER ↔ VIEWER of non-admins. The org keeps an OWNER."""
    serialize_membership(session, caller.org_id)
    acting = acting_role(session, caller)
    member, current = _member(session, caller.org_id, user_id)
    if not can_change_role(acting, current=current, new=role):
        raise refused(acting, "An ADMIN can only move MEMBERs and VIEWERs between those two roles.")
    if current is role:
        return member
    if current is Role.OWNER:
        keep_an_owner(session, caller.org_id)
    member.role = role.value
    audit.record(
        session,
        caller,
        AuditAction.TEAM_MEMBER_ROLE_CHANGED,
        resource_type="user",
        resource_id=member.id,
        before={"role": current.value},
        after=audit.snapshot(member, "role"),
    )
    return member


def remove_member(session: Session, caller: Principal, *, user_id: str) -> None:
    """Access ends at once: the person's JWT and keys answer 401 on their next request."""
    if user_id == caller.user_id:
        raise Conflict("You cannot remove yourself from the organization.", code="cannot_remove_self")
    serialize_membership(session, caller.org_id)
    acting = acting_role(session, caller)
    member, role = _member(session, caller.org_id, user_id)
    if not can_remove(acting, target=role):
        raise refused(acting, "An ADMIN cannot remove an OWNER or another ADMIN.")
    if role is Role.OWNER:
        keep_an_owner(session, caller.org_id)
    before = audit.snapshot(member, "name", "email", "role")
    member.org_id = None
    member.role = None
    audit.record(
        session,
        caller,
        AuditAction.TEAM_MEMBER_REMOVED,
        resource_type="user",
        resource_id=member.id,
        before=before,
    )


def issue_password_reset(
    session: Session, caller: Principal, *, user_id: str, link_origin: str
) -> password_reset.IssuedReset:
    """A reset link for another member, returned once (OWNER: anyone else; ADMIN: MEMBERs and VIEWERs); the
    member is emailed that it was issued (when email is configured), and the org's audit log records it."""
    if user_id == caller.user_id:
        raise Conflict("Change your own password on the Account page.", code="cannot_reset_self")
    serialize_membership(session, caller.org_id)
    acting = acting_role(session, caller)
    member, role = _member(session, caller.org_id, user_id)
    if not can_issue_password_reset(acting, target=role):
        raise refused(acting, "An ADMIN can issue reset links for MEMBERs and VIEWERs only.")
    password_reset.refuse_if_sso_enforced(session, member.email)
    issued = password_reset.issue(
        session, member, link_origin=link_origin, issued_by_id=caller.user_id, now=datetime.now(UTC)
    )
    audit.record(
        session,
        caller,
        AuditAction.TEAM_MEMBER_PASSWORD_RESET_ISSUED,
        resource_type="user",
        resource_id=member.id,
        after=audit.snapshot(member, "email", "role") | audit.snapshot(issued, "expires_at"),
    )
    outbox.enqueue(
        session,
        to=member.email,
        template="member_password_reset_issued",
        context={
            "name": member.name,
            "email": member.email,
            "issuer_name": caller.name,
            "org_name": caller.org_name,
        },
    )
    return issued
