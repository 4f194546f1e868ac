from typing import Annotated

from fastapi import APIRouter, Query, status

from provenant.api_keys import service
from provenant.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from provenant.auth.deps import CurrentPrincipal
from provenant.schemas import Success
from provenant.unit_of_work import SessionDep

router = APIRouter(prefix="/api/org/keys", tags=["api keys"])


@router.get("", response_model=list[ApiKeyRead])
async def list_api_keys(
    session: SessionDep,
    caller: CurrentPrincipal,
    include_revoked: Annotated[bool, Query(alias="includeRevoked")] = False,
) -> list[service.KeyView]:
    """OWNER and ADMIN see every key of the org, others their own; newest first."""
    return service.list_keys(session, caller, include_revoked=include_revoked)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(session: SessionDep, caller: CurrentPrincipal, body: ApiKeyCreate) -> service.KeyView:
    """Every role may create keys; the key acts with its creator's role. The response is the only one
    that ever carries the key."""
    return service.create_key(session, caller, name=body.name, expires_at=body.expires_at)


@router.delete("/{key_id}", response_model=Success)
async def revoke_api_key(session: SessionDep, caller: CurrentPrincipal, key_id: str) -> Success:
    service.revoke_key(session, caller, key_id)
    return Success()
