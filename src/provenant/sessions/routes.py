from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from provenant.auth.deps import CurrentPrincipal, RequireWrite
from provenant.schemas import Success
from provenant.sessions import service
from provenant.sessions.schemas import (
    SearchText,
    SessionCreate,
    SessionEnd,
    SessionRead,
    SessionStatus,
    SessionUpdate,
    SessionWithTurns,
    TurnCreate,
    TurnRead,
)
from provenant.unit_of_work import SessionDep

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SessionRead)
async def create_session(session: SessionDep, caller: RequireWrite, body: SessionCreate) -> Any:
    """Starts an ACTIVE session of one of the org's agents (404 for any other agent id)."""
    return service.create_session(session, caller, **body.model_dump())


@router.get("", response_model=list[SessionRead])
async def list_sessions(
    session: SessionDep,
    caller: CurrentPrincipal,
    agent_id: Annotated[str | None, Query(alias="agentId")] = None,
    status: SessionStatus | None = None,
    q: Annotated[SearchText | None, Query(description="Case-insensitive text in any turn")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[Any]:
    """The org's sessions, newest first."""
    return service.list_sessions(session, caller, agent_id=agent_id, status=status, q=q, limit=limit)


@router.get("/{session_id}", response_model=SessionWithTurns)
async def get_session(session: SessionDep, caller: CurrentPrincipal, session_id: str) -> SessionWithTurns:
    """The session with its turns in the order they were accepted."""
    agent_session, turns = service.get_session(session, caller, session_id)
    return SessionWithTurns.model_validate({**SessionRead.model_validate(agent_session).model_dump(), "turns": turns})


@router.post("/{session_id}/turns", status_code=status.HTTP_201_CREATED, response_model=TurnRead)
async def add_turn(session: SessionDep, caller: RequireWrite, session_id: str, body: TurnCreate) -> Any:
    """201 once the turn is committed; 409 session_ended once the session has ended."""
    return service.add_turn(session, caller, session_id, **body.model_dump())


@router.post("/{session_id}/end", response_model=SessionRead)
async def end_session(session: SessionDep, caller: RequireWrite, session_id: str, body: SessionEnd) -> Any:
    """Ends the session; ending an ended session returns it unchanged."""
    return service.end_session(session, caller, session_id, **body.model_dump())


@router.patch("/{session_id}", response_model=SessionRead)
async def update_session(session: SessionDep, caller: RequireWrite, session_id: str, body: SessionUpdate) -> Any:
    """How older clients end a session: ``{status?, endedAt?}``."""
    return service.update_session(session, caller, session_id, **body.model_dump())


@router.delete("/{session_id}", response_model=Success)
async def delete_session(session: SessionDep, caller: CurrentPrincipal, session_id: str) -> Success:
    """Deletes the session and its turns. MEMBER only sessions it created; VIEWER never."""
    service.delete_session(session, caller, session_id)
    return Success()
