"""What every change of an org's membership does first, and the checks it makes under it.

Every membership change (members, invitations, accepting) starts with ``serialize_membership``: an UPDATE
of the org's ``membership_version``, which holds the org's row lock on PostgreSQL (and, on SQLite, the
database write lock its writing transactions take up front) until commit. Checks made after it, such as
"is this the last OWNER?" or "is this invitation still open?", cannot race another change of the same org,
in this process or any other. The caller's role is read again under the lock (``acting_role``): an OWNER
demoted a moment ago no longer acts as one.
"""

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from provenant.auth.principal import Principal
from provenant.auth.roles import Role
from provenant.errors import Conflict, Forbidden
from provenant.models import Org, User


def serialize_membership(session: Session, *org_ids: str | None) -> None:
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


def acting_role(session: Session, caller: Principal) -> Role:
    """The caller's role as it is now, under the lock, not as it was when the request began."""
    role = session.scalar(select(User.role).where(User.id == caller.user_id, User.org_id == caller.org_id))
    if role is None:
        raise Forbidden("You are no longer a member of this organization.")
    return Role(role)


def refused(acting: Role, admin_rule: str) -> Forbidden:
    """403; for an ADMIN, with the rule of the contract that refused them (roles.py decides, this only says it)."""
    return Forbidden(admin_rule if acting is Role.ADMIN else None)


def owner_count(session: Session, org_id: str) -> int:
    owners = select(func.count()).where(User.org_id == org_id, User.role == Role.OWNER.value)
    return session.scalar(owners) or 0


def keep_an_owner(session: Session, org_id: str) -> None:
    """Refuse a change that would take away the org's last OWNER."""
    if owner_count(session, org_id) <= 1:
        raise Conflict(
            "An organization must keep at least one OWNER: make someone else an OWNER first.",
            code="last_owner",
        )
