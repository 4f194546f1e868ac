"""An organization's settings: for now, whether its members must sign in with two factors."""

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth.principal import Principal
from provenant.errors import Conflict
from provenant.models import Org, User


def read(session: Session, caller: Principal) -> Org:
    return session.get_one(Org, caller.org_id)


def update_settings(session: Session, caller: Principal, *, require_two_factor: bool | None) -> Org:
    """Changes what is given. Requiring two-factor sign-in needs it on for the caller first: an org must not
    lock out the person who set the rule."""
    org = session.get_one(Org, caller.org_id)
    if require_two_factor is None or require_two_factor == org.require_two_factor:
        return org
    if require_two_factor:
        enabled_at = session.scalar(select(User.totp_enabled_at).where(User.id == caller.user_id))
        if enabled_at is None:
            raise Conflict(
                "Turn on two-factor sign-in for your own account first (Account page): requiring it of everyone "
                "would otherwise lock you out too.",
                code="two_factor_not_enabled",
            )
    session.execute(
        update(Org)
        .where(Org.id == org.id)
        .values(require_two_factor=require_two_factor)
        .execution_options(synchronize_session=False)
    )
    before = {"requireTwoFactor": org.require_two_factor}
    session.refresh(org)
    audit.record(
        session,
        caller,
        AuditAction.ORG_REQUIRE_2FA_CHANGED,
        resource_type="org",
        resource_id=org.id,
        before=before,
        after={"requireTwoFactor": org.require_two_factor},
    )
    return org
