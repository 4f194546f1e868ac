"""Which sessions a caller reaches: every query of sessions and turns goes through here.

Every query is scoped to the caller's org, so another org's session is "not found" on every path.
A caller who may only read its own sessions (an ``ingest`` key; auth.roles.can_reach_every_session)
reads and writes only the sessions it created, or a key it was rolled from or into created: every
answer to a write (a resent turn, an end) shows what the session holds, so writing to a session the
key may not read would disclose it.
"""

import re

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from provenant.api_keys.service import same_credential
from provenant.auth.principal import Principal
from provenant.auth.roles import can_reach_every_session
from provenant.errors import NotFound
from provenant.models import AgentSession

ACTIVE = "ACTIVE"
# Ids are canonical UUID strings; anything else cannot name a row (and never reaches the database).
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_id(value: str) -> bool:
    return _ID.fullmatch(value) is not None


def visible_to(session: Session, caller: Principal) -> list[ColumnElement[bool]]:
    """The sessions ``caller`` may read and write: its org's; for an ``ingest`` key, only those created
    by it or by a key of its roll chain (the key it was rolled from carried on by its successor, and
    back during the grace period), or, for a CI job's key, by a key of its trust policy (see
    api_keys.service.same_credential). Another's session is "not found", as an unknown id is."""
    conditions = [AgentSession.org_id == caller.org_id]
    if not can_reach_every_session(caller.role, caller.access):
        assert caller.api_key_id is not None  # a JWT acts with full access
        keys = same_credential(session, caller.api_key_id, user_id=caller.user_id)
        conditions.append(AgentSession.created_by_api_key_id.in_(keys))
    return conditions


def find(session: Session, caller: Principal, session_id: str, *, for_update: bool = False) -> AgentSession:
    """A session the caller may read (``visible_to``); "not found" for any other."""
    if not is_id(session_id):
        raise NotFound("Session")
    query = select(AgentSession).where(AgentSession.id == session_id, *visible_to(session, caller))
    if for_update:
        query = query.with_for_update()
    agent_session = session.scalars(query).one_or_none()
    if agent_session is None:
        raise NotFound("Session")
    return agent_session
