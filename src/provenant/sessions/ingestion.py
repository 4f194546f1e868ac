"""Turn ingestion: what the SDKs send most, appended to a session in the request's transaction.

The hot path of the server: statements on the request's connection (the ORM's unit of work would
double the CPU per turn), the INSERT a ``LeanInsert``, and the answered Turns made from the inserted
values (``_turn_of``). benchmarks/ingest.py measures it.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, configure_mappers
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.orm.instrumentation import manager_of_class

from provenant import metrics
from provenant.auth.principal import Principal
from provenant.auth.roles import can_reach_every_session
from provenant.errors import Conflict
from provenant.hot_path_sql import LeanInsert
from provenant.models import AgentSession, Turn, new_id
from provenant.sessions.access import ACTIVE, find, is_id
from provenant.sessions.schemas import TurnCreate

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


def add_turns(session: Session, caller: Principal, session_id: str, turns: Sequence[TurnCreate]) -> list[Turn]:
    """Appends ``turns`` in their order, all in the request's transaction: all are stored or none.

    A turn whose ``client_id`` the session already holds is not stored again: the held turn takes its
    place in the answer. So does the first turn of the batch with the same ``client_id``: a batch that
    repeats an id stores it once, and both places answer the first one (later fields are ignored, as
    on a resend).

    Places are 1, 2, 3, ... in the order the database serialised the writers, with no gap and no
    duplicate, taken from the session's counter by an UPDATE that also refuses an ended session
    (409 ``session_ended``, nothing stored)."""
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
    caller may not read (sessions.access), 409 ``session_ended`` for an ended one.

    One UPDATE for a caller who reaches every session, and for the ingest key that created the session;
    a session of an ingest key's roll chain is found first (its second step)."""
    last = None
    arguments = {"target_id": session_id, "caller_org_id": caller.org_id, "now": now, "count": count}
    if is_id(session_id):
        if can_reach_every_session(caller.role, caller.access):
            last = session.connection().execute(_take_places_statement, arguments).scalar_one_or_none()
        else:
            own = {**arguments, "caller_key_id": caller.api_key_id}
            last = session.connection().execute(_take_own_places_statement, own).scalar_one_or_none()
    if last is None:
        if find(session, caller, session_id).status == ACTIVE:  # an ingest key's roll predecessor's session
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
