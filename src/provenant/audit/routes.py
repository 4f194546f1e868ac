from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from provenant.audit import service
from provenant.audit.schemas import AuditEntryRead
from provenant.auth.deps import RequireAuditReader
from provenant.models import AuditEntry
from provenant.paging import DEFAULT_LIMIT, CursorParam, Limit, PageRequest, link_next
from provenant.schemas import UtcDateTime
from provenant.unit_of_work import DatabaseDep, SessionDep

router = APIRouter(prefix="/api/audit", tags=["audit"])


async def _filter(
    action: str | None = None,
    user_id: Annotated[str | None, Query(alias="userId")] = None,
    resource_type: Annotated[str | None, Query(alias="resourceType")] = None,
    resource_id: Annotated[str | None, Query(alias="resourceId")] = None,
    since: Annotated[UtcDateTime | None, Query(alias="from", description="ISO 8601, inclusive")] = None,
    until: Annotated[UtcDateTime | None, Query(alias="to", description="ISO 8601, inclusive")] = None,
) -> service.AuditFilter:
    return service.AuditFilter(action, user_id, resource_type, resource_id, since, until)


AuditFilterDep = Annotated[service.AuditFilter, Depends(_filter)]


@router.get("", response_model=list[AuditEntryRead])
async def list_audit_entries(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: RequireAuditReader,
    where: AuditFilterDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> list[AuditEntry]:
    """The org's entries, newest first."""
    page = service.list_entries(session, caller.org_id, where, PageRequest.of(limit, cursor))
    link_next(request, response, page.next)
    return page.items


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "One entry per line."}},
)
async def export_audit_log(database: DatabaseDep, caller: RequireAuditReader, where: AuditFilterDep) -> Any:
    # A sync generator: Starlette iterates it in a worker thread, so a long export never blocks the loop.
    def lines() -> Iterator[bytes]:
        for entry in service.iter_entries(database.sessionmaker, caller.org_id, where):
            yield AuditEntryRead.model_validate(entry).model_dump_json(by_alias=True).encode() + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")
