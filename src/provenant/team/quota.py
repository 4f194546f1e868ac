"""How many invitations an org may issue: ``INVITATIONS_PER_DAY`` in any 24 hours.

Every invitation issued counts, whatever became of it (accepted, cancelled, replaced, expired), so
cancelling and re-inviting does not reset the count. The check runs under the org's membership lock
(``membership_lock.serialize_membership``), so two invitations at the limit cannot both pass.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from provenant.errors import TooManyRequests
from provenant.models import Invitation

# A module constant until config.py grows a setting for it (PROVENANT_INVITATIONS_PER_DAY).
INVITATIONS_PER_DAY = 100
WINDOW = timedelta(hours=24)


class TooManyInvitations(TooManyRequests):
    """Retry-After: the seconds until an invitation of the window leaves it."""

    code = "too_many_invitations"

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(
            f"This organization has issued {INVITATIONS_PER_DAY} invitations in the last 24 hours, the most "
            "allowed; try again in {seconds} seconds.",
            retry_after=retry_after,
        )


def require_invitation_quota(session: Session, org_id: str, *, now: datetime) -> None:
    """Refuse the org's next invitation when the window already holds ``INVITATIONS_PER_DAY``."""
    # The INVITATIONS_PER_DAY-th newest invitation of the window: while it is in it, the org is at the limit.
    oldest_counted = session.scalar(
        select(Invitation.created_at)
        .where(Invitation.org_id == org_id, Invitation.created_at > now - WINDOW)
        .order_by(Invitation.created_at.desc())
        .offset(INVITATIONS_PER_DAY - 1)
        .limit(1)
    )
    if oldest_counted is not None:
        raise TooManyInvitations(oldest_counted + WINDOW - now)
