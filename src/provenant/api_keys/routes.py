from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response, status

from provenant.api_keys import leaked, service, usage
from provenant.api_keys.schemas import (
    MAX_USAGE_DAYS,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    ApiKeyRoll,
    DailyUsage,
    LeakReceived,
    LeakReport,
)
from provenant.auth.deps import AnonymousActor, RequireKeyManager, RequireRead, attempt_limiter
from provenant.models import ApiKey
from provenant.paging import DEFAULT_LIMIT, CursorParam, Limit, PageRequest, link_next
from provenant.schemas import Success
from provenant.unit_of_work import DatabaseDep, SessionDep

router = APIRouter(prefix="/api/org/keys", tags=["api keys"])


def _shown_once(new: service.NewKey) -> ApiKeyCreated:
    """The key object with the raw key: the one response that carries it."""
    return ApiKeyCreated.model_validate(ApiKeyRead.model_validate(new.stored).model_dump() | {"key": new.secret})


@router.get("", response_model=list[ApiKeyRead])
async def list_api_keys(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: RequireRead,
    include_revoked: Annotated[bool, Query(alias="includeRevoked")] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> list[ApiKey]:
    """OWNER and ADMIN see every key of the org, others their own; newest first."""
    page = service.list_keys(session, caller, include_revoked=include_revoked, page=PageRequest.of(limit, cursor))
    link_next(request, response, page.next)
    return page.items


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(session: SessionDep, caller: RequireKeyManager, body: ApiKeyCreate) -> ApiKeyCreated:
    """Every role may create keys; the key acts with its creator's role, narrowed by its access. The
    response is the only one that ever carries the key."""
    return _shown_once(
        service.create_key(
            session,
            caller,
            name=body.name,
            expires_at=body.expires_at,
            access=body.access,
            rate_limit_per_minute=body.rate_limit_per_minute,
        )
    )


@router.delete("/{key_id}", response_model=Success)
async def revoke_api_key(session: SessionDep, caller: RequireKeyManager, key_id: str) -> Success:
    service.revoke_key(session, caller, key_id)
    return Success()


@router.post(
    "/{key_id}/roll",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
)
async def roll_api_key(
    session: SessionDep, caller: RequireKeyManager, key_id: str, body: ApiKeyRoll | None = None
) -> ApiKeyCreated:
    """A new key with the same name, access, rate limit, expiry and creator, shown once; the old key keeps working
    for `graceSeconds` (or until its own earlier expiry), then answers 401 `api_key_expired`. Only the key's
    creator may roll it: an OWNER or ADMIN who sees another's key gets 403 and may revoke it instead."""
    grace = timedelta(seconds=body.grace_seconds if body else 0)
    return _shown_once(service.roll_key(session, caller, key_id, grace=grace))


@router.get("/{key_id}/usage", response_model=list[DailyUsage])
async def api_key_usage(
    session: SessionDep,
    caller: RequireRead,
    key_id: str,
    days: Annotated[int, Query(ge=1, le=MAX_USAGE_DAYS, description="UTC days up to today, 1 to 90.")] = 30,
) -> list[DailyUsage]:
    """Requests per UTC day, oldest first, days without use as 0; today's count lags by up to a minute."""
    return [DailyUsage(date=day, requests=n) for day, n in usage.daily_usage(session, caller, key_id, days=days)]


leaked_router = APIRouter(tags=["api keys"])


@leaked_router.post(
    "/api/keys/report-leaked",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=LeakReceived,
)
async def report_leaked_keys(
    request: Request, database: DatabaseDep, reporter: AnonymousActor, body: LeakReport, background: BackgroundTasks
) -> LeakReceived:
    """No authentication: anyone who finds a key exposed may report it. The same answer whatever the keys
    are (real, unknown, revoked); every active key among them is revoked after the answer is sent."""
    await attempt_limiter(request).count_leak_report(reporter.ip_address)
    background.add_task(leaked.revoke_reported, database, reporter, list(body.keys))
    return LeakReceived(received=len(body.keys))
