from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

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
    # The export's one connection is checked out now, before the 200 starts: with none free the answer is
    # 503 busy, never an export cut off where a later page found the pool empty.
    connection = database.engine.connect()
    return _Export(connection, service.iter_pages(connection, caller.org_id, where))


class _Export(StreamingResponse):
    """NDJSON, a page of entries at a time, each page read in a worker thread (a long export never blocks
    the loop); the connection goes back to the pool when the response ends, however it ends."""

    def __init__(self, connection: Connection, pages: Iterator[list[AuditEntry]]) -> None:
        super().__init__(self._lines(pages), media_type="application/x-ndjson")
        self._connection = connection

    @staticmethod
    async def _lines(pages: Iterator[list[AuditEntry]]) -> AsyncIterator[bytes]:
        no_more: list[AuditEntry] = []
        while page := await run_in_threadpool(next, pages, no_more):
            yield b"".join(
                AuditEntryRead.model_validate(entry).model_dump_json(by_alias=True).encode() + b"\n" for entry in page
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._connection.close()
