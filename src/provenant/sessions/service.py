"""Sessions of an org's agents and their turns: what the SDKs ingest.

Every query is scoped to the caller's org, so another org's session is "not found" on every path.
An ``ingest`` key reads and writes only the sessions it created, or a key it was rolled from or into
created (``_visible_to``): every answer to a write (a resent turn, an end) shows what the session
holds, so writing to a session the key may not read would disclose it. A session is ACTIVE until it
ends (COMPLETED or FAILED); ending is final and idempotent.
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, exists, func, select, update
from sqlalchemy.orm import Session, configure_mappers
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.orm.instrumentation import manager_of_class

from provenant import metrics
from provenant.api_keys.service import same_credential
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth.principal import Principal
from provenant.auth.roles import Access, can_delete
from provenant.errors import Conflict, Forbidden, NotFound, ValidationFailed
from provenant.lean import LeanInsert
from provenant.models import Agent, AgentSession, Turn, new_id
from provenant.paging import Page, PageRequest, Position, newest_first, page_of
from provenant.sessions.schemas import TurnCreate

ACTIVE = "ACTIVE"
_MAX_INT = 2**31 - 1
# Ids are canonical UUID strings; anything else cannot name a row (and never reaches the database).
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

_sessions, _turns = cast(Table, AgentSession.__table__), cast(Table, Turn.__table__)
_take_places_statement = (
    update(_sessions)
    .where(
        _sessions.c.id == bindparam("target_id"),
        _sessions.c.org_id == bindparam("caller_org_id"),
        _sessions.c.status == ACTIVE,
    )
    .values(turn_count=_sessions.c.turn_count + bindparam("count"), updated_at=bindparam("now"))
    .returning(_sessions.c.turn_count)
)
# The same for an ingest key, in the one statement the hot path runs: the sessions the key created
# itself. Those its roll predecessors or successors created take _take_places' second step.
_take_own_places_statement = _take_places_statement.where(
    _sessions.c.created_by_api_key_id == bindparam("caller_key_id")
)
_insert_turns = LeanInsert(_turns)
configure_mappers()  # a Turn made by _new_turn reads its attributes through what this sets up
_new_turn = manager_of_class(Turn).new_instance


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
    return audit.snapshot(
        agent_session, "agent_id", "external_id", "status", "ended_at", "total_tokens", "total_latency_ms"
    )


def _visible_to(session: Session, caller: Principal) -> list[ColumnElement[bool]]:
    """The sessions ``caller`` may read and write: its org's; for an ``ingest`` key, only those created
    by it or by a key of its roll chain (the key it was rolled from carried on by its successor, and
    back during the grace period), or, for a CI job's key, by a key of its trust policy (see
    api_keys.same_credential). Another's session is "not found", as an unknown id is."""
    conditions = [AgentSession.org_id == caller.org_id]
    if caller.access == Access.INGEST:
        assert caller.api_key_id is not None  # a JWT acts with full access
        keys = same_credential(session, caller.api_key_id, user_id=caller.user_id)
        conditions.append(AgentSession.created_by_api_key_id.in_(keys))
    return conditions


def _find(session: Session, caller: Principal, session_id: str, *, for_update: bool = False) -> AgentSession:
    """A session the caller may read (``_visible_to``); "not found" for any other."""
    if not _is_id(session_id):
        raise NotFound("Session")
    query = select(AgentSession).where(AgentSession.id == session_id, *_visible_to(session, caller))
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
    page: PageRequest,
) -> Page[AgentSession]:
    """Newest first, one page. Each filter keeps an (org, ..., created_at) index usable: the rows come
    out of the index already in order and the scan stops after the page's matches."""
    query = select(AgentSession).where(*_visible_to(session, caller))
    if agent_id is not None:
        if not _is_id(agent_id):
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
    agent_session = _find(session, caller, session_id)
    turns = session.scalars(select(Turn).where(Turn.session_id == agent_session.id).order_by(Turn.seq))
    return agent_session, list(turns)


def add_turns(session: Session, caller: Principal, session_id: str, turns: Sequence[TurnCreate]) -> list[Turn]:
    """Appends ``turns`` in their order, all in the request's transaction: all are stored or none.

    A turn whose ``client_id`` the session already holds is not stored again: the held turn takes its
    place in the answer. So does the first turn of the batch with the same ``client_id``: a batch that
    repeats an id stores it once, and both places answer the first one (later fields are ignored, as
    on a resend).

    Places are 1, 2, 3, ... in the order the database serialised the writers, with no gap and no
    duplicate, taken from the session's counter by an UPDATE that also refuses an ended session
    (409 ``session_ended``, nothing stored). The ingestion hot path: statements on the request's
    connection (the ORM's unit of work would double the CPU per turn), the INSERT a ``LeanInsert``;
    the returned Turns are made from the inserted values (``_turn_of``)."""
    now = datetime.now(UTC)
    connection = session.connection()
    client_ids = [turn.client_id for turn in turns if turn.client_id is not None]
    if not client_ids:
        last = _take_places(session, caller, session_id, len(turns), now)
        rows = [_row(turn, session_id, seq, now) for seq, turn in enumerate(turns, start=last - len(turns) + 1)]
        _insert_turns.execute(connection, rows, shared={"session_id": session_id, "created_at": now})
        metrics.count_turns(session, len(rows))
        return [_turn_of(row) for row in rows]

    # Locks the session's row first (on PostgreSQL; SQLite's write lock is already held), so that two
    # batches of one session run one after the other and the second finds what the first stored. Were
    # the held turns read before the lock, a resend racing its original would meet the unique index
    # (session, clientId) at its INSERT, and its request would fail instead of answering the held turns.
    last = _take_places(session, caller, session_id, 0, now)
    held: dict[str | None, Turn] = {
        turn.client_id: turn
        for turn in session.scalars(
            select(Turn).where(Turn.session_id == session_id, Turn.client_id.in_(set(client_ids)))
        )
    }
    answer: list[Turn] = []
    fresh: list[dict[str, Any]] = []
    for turn in turns:
        if turn.client_id is not None and turn.client_id in held:
            answer.append(held[turn.client_id])
            continue
        last += 1
        row = _row(turn, session_id, last, now)
        stored = _turn_of(row)
        if turn.client_id is not None:
            held[turn.client_id] = stored
        fresh.append(row)
        answer.append(stored)
    if fresh:
        _insert_turns.execute(connection, fresh, shared={"session_id": session_id, "created_at": now})
        connection.execute(
            update(_sessions).where(_sessions.c.id == session_id).values(turn_count=last, updated_at=now)
        )
        metrics.count_turns(session, len(fresh))
    return answer


def _take_places(session: Session, caller: Principal, session_id: str, count: int, now: datetime) -> int:
    """Moves the active session's turn counter on by ``count`` and returns it; 404 for a session the
    caller may not read (``_visible_to``), 409 ``session_ended`` for an ended one.

    One UPDATE for a full key or a JWT, and for the ingest key that created the session; a session of
    an ingest key's roll chain is found first (its second step)."""
    last = None
    arguments = {"target_id": session_id, "caller_org_id": caller.org_id, "now": now, "count": count}
    if _is_id(session_id):
        if caller.access == Access.INGEST:
            own = {**arguments, "caller_key_id": caller.api_key_id}
            last = session.connection().execute(_take_own_places_statement, own).scalar_one_or_none()
        else:
            last = session.connection().execute(_take_places_statement, arguments).scalar_one_or_none()
    if last is None:
        if _find(session, caller, session_id).status == ACTIVE:  # an ingest key's roll predecessor's session
            last = session.connection().execute(_take_places_statement, arguments).scalar_one_or_none()
        if last is None:
            raise Conflict("This session has ended; it accepts no more turns.", code="session_ended")
    return int(last)


def _row(turn: TurnCreate, session_id: str, seq: int, now: datetime) -> dict[str, Any]:
    return {
        "id": new_id(),
        "session_id": session_id,
        "seq": seq,
        "role": turn.role,
        "content": turn.content,
        "content_text": searchable_text(turn.content),
        "tool_calls": turn.tool_calls,
        "latency_ms": turn.latency_ms,
        "input_tokens": turn.input_tokens,
        "output_tokens": turn.output_tokens,
        "metadata": turn.metadata,
        "client_id": turn.client_id,
        "created_at": now,
    }


def _turn_of(row: dict[str, Any]) -> Turn:
    """The Turn the answer shows, from the values just inserted; it never joins the ORM session.

    Made as the ORM makes the objects it loads (a new instance, its attributes' values put in place),
    not through ``Turn(...)``, whose constructor records every attribute as a pending change: 20 µs a
    turn, 15 % of a batch's server CPU (benchmarks/ingest.py)."""
    turn = _new_turn()
    values = instance_dict(turn)
    values.update(row)
    values["metadata_"] = values.pop("metadata")
    return turn


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
