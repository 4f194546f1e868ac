"""``/api/org/settings``, the original Provenant's path for an organization's settings."""

from fastapi import APIRouter

from provenant.auth.deps import RequireOrgSettingsManager, RequireRead
from provenant.models import Org
from provenant.org_settings import service
from provenant.org_settings.schemas import OrgSettingsRead, OrgSettingsUpdate
from provenant.unit_of_work import SessionDep

router = APIRouter(prefix="/api/org", tags=["org settings"])


@router.get("/settings", response_model=OrgSettingsRead)
async def read_settings(session: SessionDep, caller: RequireRead) -> Org:
    return service.read(session, caller)


@router.patch("/settings", response_model=OrgSettingsRead)
async def update_settings(session: SessionDep, caller: RequireOrgSettingsManager, body: OrgSettingsUpdate) -> Org:
    """OWNER, signed in (an API key gets 403). Requiring two-factor sign-in needs it on for the caller first
    (409 ``two_factor_not_enabled``)."""
    return service.update_settings(session, caller, require_two_factor=body.require_two_factor)
