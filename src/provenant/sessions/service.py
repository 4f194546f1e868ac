"""Sessions of an org's agents and their turns: what the SDKs ingest.

Every query is scoped to the caller's org, so another org's session is "not found" on every path.
A session is ACTIVE until it ends (COMPLETED or FAILED); ending is final and idempotent.
"""

import re
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, func, insert, select, update
from sqlalchemy.orm import Session

from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth.principal import Principal
from provenant.auth.roles import can_delete
from provenant.errors import Conflict, Forbidden, NotFound, ValidationFailed
from provenant.models import Agent, AgentSession, Turn, new_id

ACTIVE = "ACTIVE"
_MAX_INT = 2**31 - 1
# Ids are canonical UUID strings; anything else cannot name a row (and never reaches the database).
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

_sessions, _turns = cast(Table, AgentSession.__table__), cast(Table, Turn.__table__)
_take_next_seq = (
    update(_sessions)
    .where(
        _sessions.c.id == bindparam("target_id"),
        _sessions.c.org_id == bindparam("caller_org_id"),
        _sessions.c.status == ACTIVE,
    )
    .values(turn_count=_sessions.c.turn_count + 1, updated_at=bindparam("now"))
    .returning(_sessions.c.turn_count)
)


def _is_id(value: str) -> bool:
    return _ID.fullmatch(value) is not None


def searchable_text(content: Any) -> str:
    """The strings of a turn's content, case-folded once here so that ``q`` is a plain substring
    match on every backend (SQLite's LIKE folds ASCII only, PostgreSQL's LIKE nothing)."""
    if isinstance(content, str):
        return content.casefold()
    parts: list[str] = []
    pending = [content]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, dict):
            pending.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            pending.extend(reversed(item))
    return "\n".join(parts).casefold()


def _snapshot(agent_session: AgentSession) -> dict[str, Any]:
    """Ids and outcome only: metadata and the end user's id stay out of the audit log."""
    return {
        "agentId": agent_session.agent_id,
        "externalId": agent_session.external_id,
        "status": agent_session.status,
        "endedAt": agent_session.ended_at.isoformat() if agent_session.ended_at else None,
        "totalTokens": agent_session.total_tokens,
        "totalLatencyMs": agent_session.total_latency_ms,
    }


def _find(session: Session, caller: Principal, session_id: str, *, for_update: bool = False) -> AgentSession:
    if not _is_id(session_id):
        raise NotFound("Session")
    query = select(AgentSession).where(AgentSession.id == session_id, AgentSession.org_id == caller.org_id)
    if for_update:
        query = query.with_for_update()
    agent_session = session.scalars(query).one_or_none()
    if agent_session is None:
        raise NotFound("Session")
    return agent_session


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
    agent_found = _is_id(agent_id) and session.scalar(
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
        session, caller, AuditAction.SESSION_CREATE, resource_type="session", resource_id=agent_session.id,
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
    limit: int,
) -> list[AgentSession]:
    """Newest first. Each filter keeps an (org, ..., created_at) index usable: the rows come out of
    the index already in order and the scan stops after ``limit`` matches."""
    query = select(AgentSession).where(AgentSession.org_id == caller.org_id)
    if agent_id is not None:
        if not _is_id(agent_id):
            return []
        query = query.where(AgentSession.agent_id == agent_id)
    if status is not None:
        query = query.where(AgentSession.status == status)
    if q:
        mentions = Turn.content_text.contains(q.casefold(), autoescape=True)
        query = query.where(exists().where(Turn.session_id == AgentSession.id, mentions))
    query = query.order_by(AgentSession.created_at.desc(), AgentSession.id.desc()).limit(limit)
    return list(session.scalars(query))


def get_session(session: Session, caller: Principal, session_id: str) -> tuple[AgentSession, list[Turn]]:
    """The session and its turns in the order they were accepted."""
    agent_session = _find(session, caller, session_id)
    turns = session.scalars(select(Turn).where(Turn.session_id == agent_session.id).order_by(Turn.seq))
    return agent_session, list(turns)


def add_turn(
    session: Session,
    caller: Principal,
    session_id: str,
    *,
    role: str,
    content: Any,
    tool_calls: Any,
    latency_ms: int | None,
    input_tokens: int | None,
    output_tokens: int | None,
    metadata: dict[str, Any] | None,
) -> Turn:
    """Appends a turn. Its place in the session is taken by one atomic UPDATE of the session's
    counter, which also refuses a session that has ended: concurrent writers get 1, 2, 3, ... in
    the order the database serialised them, with no gap and no duplicate.

    The ingestion hot path: two Core statements on the request's connection (the ORM's unit of
    work would double the CPU per turn); the returned Turn is built from the inserted values."""
    now = datetime.now(UTC)
    connection = session.connection()
    seq = None
    if _is_id(session_id):
        seq = connection.execute(
            _take_next_seq, {"target_id": session_id, "caller_org_id": caller.org_id, "now": now}
        ).scalar_one_or_none()
    if seq is None:
        _find(session, caller, session_id)
        raise Conflict("This session has ended; it accepts no more turns.", code="session_ended")
    values = {
        "id": new_id(),
        "session_id": session_id,
        "seq": seq,
        "role": role,
        "content": content,
        "content_text": searchable_text(content),
        "tool_calls": tool_calls,
        "latency_ms": latency_ms,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "metadata": metadata,
        "created_at": now,
    }
    connection.execute(insert(_turns), values)
    values["metadata_"] = values.pop("metadata")
    return Turn(**values)


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
    agent_session = _find(session, caller, session_id, for_update=True)
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
        session, caller, AuditAction.SESSION_END, resource_type="session", resource_id=agent_session.id,
        before=before, after=_snapshot(agent_session),
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
        agent_session = _find(session, caller, session_id)
        if agent_session.status != ACTIVE:
            raise Conflict("This session has ended and cannot be reopened.", code="session_ended")
        return agent_session
    if status is None and ended_at is None:
        return _find(session, caller, session_id)
    return end_session(session, caller, session_id, status=status or "COMPLETED", ended_at=ended_at)


def delete_session(session: Session, caller: Principal, session_id: str) -> None:
    """Deletes the session and its turns. MEMBER deletes only sessions it created, itself or through
    one of its keys; OWNER and ADMIN any."""
    agent_session = _find(session, caller, session_id)
    if not can_delete(caller.role, caller_id=caller.user_id, creator_id=agent_session.created_by_user_id):
        raise Forbidden()
    before = _snapshot(agent_session)
    session.delete(agent_session)  # turns go with it: ON DELETE CASCADE
    session.flush()
    audit.record(
        session, caller, AuditAction.SESSION_DELETE, resource_type="session", resource_id=session_id,
        before=before,
    )
