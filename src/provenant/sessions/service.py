"""Sessions of an org's agents: started, listed, read, ended, deleted. Their turns arrive through
sessions.ingestion; which sessions a caller reaches is sessions.access's to say.

A session is ACTIVE until it ends (COMPLETED or FAILED); ending is final and idempotent.
"""

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, exists, func, select
from sqlalchemy.orm import Session

from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth.principal import Principal
from provenant.auth.roles import can_delete
from provenant.errors import Conflict, Forbidden, NotFound, ValidationFailed
from provenant.models import Agent, AgentSession, Turn, new_id
from provenant.paging import Page, PageRequest, Position, newest_first, page_of
from provenant.sessions.access import ACTIVE, find, is_id, visible_to

_MAX_INT = 2**31 - 1
_sessions = cast(Table, AgentSession.__table__)


def _snapshot(agent_session: AgentSession) -> dict[str, Any]:
    """Ids and outcome only: metadata and the end user's id stay out of the audit log."""
    return audit.snapshot(
        agent_session, "agent_id", "external_id", "status", "ended_at", "total_tokens", "total_latency_ms"
    )


def create_session(
    session: Session,
    caller: Principal,
    *,
    agent_id: str,
    agent_version_id: str | None,
    environment_id: str | None,
    external_id: str | None,
    user_id: str | None,
    metadata: dict[str, Any] | None,
    tags: list[str],
) -> AgentSession:
    """The agent must be one of the caller's org (archived ones included: ingestion never drops a
    conversation because of a dashboard action); another org's agent is "not found"."""
    agent_found = is_id(agent_id) and session.scalar(
        select(Agent.id).where(Agent.id == agent_id, Agent.org_id == caller.org_id)
    )
    if not agent_found:
        raise NotFound("Agent")
    now = datetime.now(UTC)
    agent_session = AgentSession(
        id=new_id(),
        org_id=caller.org_id,
        agent_id=agent_id,
        agent_version_id=agent_version_id,
        environment_id=environment_id,
        external_id=external_id,
        user_id=user_id,
        metadata_=metadata,
        tags=tags,
        status=ACTIVE,
        started_at=now,
        turn_count=0,
        created_by_user_id=caller.user_id,
        created_by_api_key_id=caller.api_key_id,
        created_at=now,
        updated_at=now,
    )
    session.add(agent_session)
    session.flush()
    audit.record(
        session,
        caller,
        AuditAction.SESSION_CREATE,
        resource_type="session",
        resource_id=agent_session.id,
        after=_snapshot(agent_session),
    )
    return agent_session


def list_sessions(
    session: Session,
    caller: Principal,
    *,
    agent_id: str | None,
    status: str | None,
    q: str | None,
    page: PageRequest,
) -> Page[AgentSession]:
    """Newest first, one page. Each filter keeps an (org, ..., created_at) index usable: the rows come
    out of the index already in order and the scan stops after the page's matches."""
    query = select(AgentSession).where(*visible_to(session, caller))
    if agent_id is not None:
        if not is_id(agent_id):
            return Page([], None)
        query = query.where(AgentSession.agent_id == agent_id)
    if status is not None:
        query = query.where(AgentSession.status == status)
    if q:
        mentions = Turn.content_text.contains(q.casefold(), autoescape=True)
        query = query.where(exists().where(Turn.session_id == AgentSession.id, mentions))
    found = session.scalars(newest_first(query, _sessions.c.created_at, _sessions.c.id, page)).all()
    return page_of(found, page, _position)


def _position(agent_session: AgentSession) -> Position:
    return Position(agent_session.created_at, agent_session.id)


def get_session(session: Session, caller: Principal, session_id: str) -> tuple[AgentSession, list[Turn]]:
    """The session and its turns in the order they were accepted."""
    agent_session = find(session, caller, session_id)
    turns = session.scalars(select(Turn).where(Turn.session_id == agent_session.id).order_by(Turn.seq))
    return agent_session, list(turns)


def _totals_from_turns(session: Session, session_id: str) -> tuple[int | None, int | None]:
    input_tokens, output_tokens, latency = session.execute(
        select(func.sum(Turn.input_tokens), func.sum(Turn.output_tokens), func.sum(Turn.latency_ms)).where(
            Turn.session_id == session_id
        )
    ).one()
    tokens = None
    if input_tokens is not None or output_tokens is not None:
        tokens = (input_tokens or 0) + (output_tokens or 0)
    return (
        None if tokens is None else min(int(tokens), _MAX_INT),
        None if latency is None else min(int(latency), _MAX_INT),
    )


def end_session(
    session: Session,
    caller: Principal,
    session_id: str,
    *,
    status: str = "COMPLETED",
    total_tokens: int | None = None,
    total_latency_ms: int | None = None,
    ended_at: datetime | None = None,
) -> AgentSession:
    """Ends an ACTIVE session. Totals not given are summed from the turns (null when no turn
    reported any). Ending an ended session changes nothing and returns it as it ended."""
    # Row-locked on PostgreSQL, so no turn is accepted between this read and the status change.
    agent_session = find(session, caller, session_id, for_update=True)
    if agent_session.status != ACTIVE:
        return agent_session
    derived_tokens, derived_latency = _totals_from_turns(session, agent_session.id)
    before = _snapshot(agent_session)
    now = datetime.now(UTC)
    agent_session.status = status
    agent_session.ended_at = ended_at or now
    agent_session.total_tokens = derived_tokens if total_tokens is None else total_tokens
    agent_session.total_latency_ms = derived_latency if total_latency_ms is None else total_latency_ms
    agent_session.updated_at = now
    session.flush()
    audit.record(
        session,
        caller,
        AuditAction.SESSION_END,
        resource_type="session",
        resource_id=agent_session.id,
        before=before,
        after=_snapshot(agent_session),
    )
    return agent_session


def update_session(
    session: Session, caller: Principal, session_id: str, *, status: str | None, ended_at: datetime | None
) -> AgentSession:
    """How older clients end a session: a final status, an ``endedAt`` (then COMPLETED), or both.
    ``status: ACTIVE`` only confirms an active session; an ended one cannot be reopened."""
    if status == ACTIVE:
        if ended_at is not None:
            raise ValidationFailed("endedAt", "an ACTIVE session has no end time")
        agent_session = find(session, caller, session_id)
        if agent_session.status != ACTIVE:
            raise Conflict("This session has ended and cannot be reopened.", code="session_ended")
        return agent_session
    if status is None and ended_at is None:
        return find(session, caller, session_id)
    return end_session(session, caller, session_id, status=status or "COMPLETED", ended_at=ended_at)


def delete_session(session: Session, caller: Principal, session_id: str) -> None:
    """Deletes the session and its turns. MEMBER deletes only sessions it created, itself or through
    one of its keys; OWNER and ADMIN any."""
    agent_session = find(session, caller, session_id)
    if not can_delete(caller.role, caller_id=caller.user_id, creator_id=agent_session.created_by_user_id):
        raise Forbidden()
    before = _snapshot(agent_session)
    session.delete(agent_session)  # turns go with it: ON DELETE CASCADE
    session.flush()
    audit.record(
        session,
        caller,
        AuditAction.SESSION_DELETE,
        resource_type="session",
        resource_id=session_id,
        before=before,
    )
