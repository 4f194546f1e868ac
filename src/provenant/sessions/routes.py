from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response, status

from provenant.auth.deps import RequireDelete, RequireIngest, RequireSessionReader
from provenant.models import AgentSession, Turn
from provenant.paging import DEFAULT_LIMIT, CursorParam, Limit, PageRequest, link_next
from provenant.schemas import Success
from provenant.sessions import ingestion, service
from provenant.sessions.schemas import (
    SearchText,
    SessionCreate,
    SessionEnd,
    SessionRead,
    SessionStatus,
    SessionUpdate,
    SessionWithTurns,
    TurnRead,
    TurnsIn,
)
from provenant.unit_of_work import SessionDep

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SessionRead)
async def create_session(session: SessionDep, caller: RequireIngest, body: SessionCreate) -> AgentSession:
    """Starts an ACTIVE session of one of the org's agents (404 for any other agent id)."""
    return service.create_session(session, caller, **body.model_dump())


@router.get("", response_model=list[SessionRead])
async def list_sessions(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: RequireSessionReader,
    agent_id: Annotated[str | None, Query(alias="agentId")] = None,
    status: SessionStatus | None = None,
    q: Annotated[SearchText | None, Query(description="Case-insensitive text in any turn")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> list[AgentSession]:
    """The org's sessions, newest first, a page at a time (``Link: rel="next"`` while more follow);
    an ``ingest`` key sees only the sessions it (or a key of its roll chain) created, and writes to no other."""
    page = service.list_sessions(
        session, caller, agent_id=agent_id, status=status, q=q, page=PageRequest.of(limit, cursor)
    )
    link_next(request, response, page.next)
    return page.items


@router.get("/{session_id}", response_model=SessionWithTurns)
async def get_session(session: SessionDep, caller: RequireSessionReader, session_id: str) -> SessionWithTurns:
    """The session with its turns in the order they were accepted."""
    agent_session, turns = service.get_session(session, caller, session_id)
    return SessionWithTurns.model_validate({**SessionRead.model_validate(agent_session).model_dump(), "turns": turns})


@router.post("/{session_id}/turns", status_code=status.HTTP_201_CREATED, response_model=TurnRead | list[TurnRead])
async def add_turns(
    session: SessionDep, caller: RequireIngest, session_id: str, body: Annotated[TurnsIn, Body()]
) -> Turn | list[Turn]:
    """One turn, or an array of 1 to 500 stored all or nothing in their order (201 with the stored
    turns in that order); 201 means committed. A turn whose ``clientId`` the session holds is answered
    with the held turn and not stored again. 409 session_ended once the session has ended."""
    if isinstance(body, list):
        return ingestion.add_turns(session, caller, session_id, body)
    return ingestion.add_turns(session, caller, session_id, [body])[0]


@router.post("/{session_id}/end", response_model=SessionRead)
async def end_session(session: SessionDep, caller: RequireIngest, session_id: str, body: SessionEnd) -> AgentSession:
    """Ends the session; ending an ended session returns it unchanged."""
    return service.end_session(session, caller, session_id, **body.model_dump())


@router.patch("/{session_id}", response_model=SessionRead)
async def update_session(
    session: SessionDep, caller: RequireIngest, session_id: str, body: SessionUpdate
) -> AgentSession:
    """How older clients end a session: ``{status?, endedAt?}``."""
    return service.update_session(session, caller, session_id, **body.model_dump())


@router.delete("/{session_id}", response_model=Success)
async def delete_session(session: SessionDep, caller: RequireDelete, session_id: str) -> Success:
    """Deletes the session and its turns. MEMBER only sessions it created; VIEWER never."""
    service.delete_session(session, caller, session_id)
    return Success()
