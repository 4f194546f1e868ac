"""Agents of an org. Every query is scoped to the caller's org: another org's agent is "not found"."""

from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provenant.agents.slugs import pre_transliteration_slug, slugify
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth.principal import Principal
from provenant.auth.roles import can_delete
from provenant.db import Reader
from provenant.errors import Conflict, Forbidden, NotFound, ValidationFailed
from provenant.hot_path_sql import AnySelect, LeanQuery, utc
from provenant.models import Agent
from provenant.paging import Page, PageRequest, Position, page_of, sorts_after

_agent_columns = Agent.__table__.c
_EDITABLE = ("name", "slug", "description", "tags", "model_family")


def _snapshot(agent: Agent) -> dict[str, Any]:
    return audit.snapshot(agent, "name", "slug", "description", "tags", "model_family", "status")


def _list_query(_dialect: str, *, by_status: bool, after: bool) -> AnySelect:
    columns = _agent_columns
    query = select(columns.listed, columns.updated_at, columns.id).where(columns.org_id == bindparam("org_id"))
    if by_status:
        query = query.where(columns.status == bindparam("status"))
    if after:
        after_at = bindparam("after_at", type_=columns.updated_at.type)
        query = query.where(sorts_after(columns.updated_at, columns.id, after_at, bindparam("after_id")))
    return query.order_by(columns.updated_at.desc(), columns.id.desc()).limit(bindparam("limit"))


# The SDKs' most frequent read: each agent's JSON as the database keeps it (Agent.listed, written by a trigger
# with the row), read on the DB-API cursor (provenant.hot_path_sql). Rendering it in the SELECT per request was
# about three quarters of the statement for 50 agents on SQLite; loading Agent rows and serialising them with
# pydantic, 4-7x slower again. One statement per filter and page position, compiled once.
_list_queries = {
    (by_status, after): LeanQuery(partial(_list_query, by_status=by_status, after=after))
    for by_status in (False, True)
    for after in (False, True)
}


def list_agents_json(reader: Reader, caller: Principal, *, status: str | None, page: PageRequest) -> Page[str]:
    """A page of the org's agents, most recently updated first, each as the JSON text of AgentRead."""
    params: dict[str, Any] = {"org_id": caller.org_id, "limit": page.limit + 1}
    if status:
        params["status"] = status
    if page.after:
        params |= {"after_at": page.after.at, "after_id": page.after.id}
    rows = _list_queries[(status is not None, page.after is not None)].rows(reader, **params)
    listed = page_of(rows, page, lambda row: Position(utc(row[1]), row[2]))  # row: json, updated_at, id
    return Page([json_text for json_text, _updated_at, _id in listed.items], listed.next)


def get_agent(session: Session, caller: Principal, agent_id: str) -> Agent:
    agent = session.scalars(select(Agent).where(Agent.id == agent_id, Agent.org_id == caller.org_id)).one_or_none()
    if agent is None:
        raise NotFound("Agent")
    return agent


def _find_by_slug(session: Session, org_id: str, slug: str) -> Agent | None:
    return session.scalars(select(Agent).where(Agent.org_id == org_id, Agent.slug == slug)).one_or_none()


def _insert(session: Session, caller: Principal, fields: dict[str, Any]) -> Agent | None:
    """The new agent, or None when the (org, slug) unique constraint says it already exists."""
    now = datetime.now(UTC)
    agent = Agent(org_id=caller.org_id, created_by_id=caller.user_id, created_at=now, updated_at=now, **fields)
    try:
        with session.begin_nested():
            session.add(agent)
    except IntegrityError:
        return None
    audit.record(
        session,
        caller,
        AuditAction.AGENT_CREATE,
        resource_type="agent",
        resource_id=agent.id,
        after=_snapshot(agent),
    )
    return agent


def create_agent(session: Session, caller: Principal, *, name: str, slug: str | None, **fields: Any) -> Agent:
    """Without a slug, the one derived from the name (``agents.slugs``), as get-or-create derives it."""
    slug = slug or _slug_of(name)
    agent = _insert(session, caller, {"name": name, "slug": slug, **fields})
    if agent is None:
        raise Conflict(f"An agent with slug '{slug}' already exists.", code="slug_taken")
    return agent


def get_or_create_agent(session: Session, caller: Principal, *, name: str, **fields: Any) -> tuple[Agent, bool]:
    """Matched on the slug derived from the name. Safe under concurrent calls: the unique
    constraint decides, and the loser reads the winner's row."""
    slug = _slug_of(name)
    existing = _find_by_slug(session, caller.org_id, slug) or _made_by_the_earlier_rule(session, caller, name)
    if existing is not None:
        return existing, False
    created = _insert(session, caller, {"name": name, "slug": slug, **fields})
    if created is not None:
        return created, True
    winner = _find_by_slug(session, caller.org_id, slug)
    if winner is None:  # pragma: no cover - the constraint fired, so the row exists
        raise Conflict("The agent could not be created; try again.")
    return winner, False


def _slug_of(name: str) -> str:
    slug = slugify(name)
    if not slug:
        raise ValidationFailed("name", "must contain at least one letter or digit")
    return slug


def _made_by_the_earlier_rule(session: Session, caller: Principal, name: str) -> Agent | None:
    """The agent get-or-create made from this very name before the slug rule spelled every letter (``Straße
    Bot`` was ``strae-bot``): found again, not made twice. The name must match too, since the earlier rule
    gave different names one slug (``Бот 2`` and ``Агент 2`` were both ``2``)."""
    earlier = pre_transliteration_slug(name)
    if not earlier or earlier == slugify(name):
        return None
    agent = _find_by_slug(session, caller.org_id, earlier)
    return agent if agent is not None and agent.name == name else None


def update_agent(session: Session, caller: Principal, agent_id: str, changes: dict[str, Any]) -> Agent:
    agent = get_agent(session, caller, agent_id)
    before = _snapshot(agent)
    try:
        # The edit happens inside the savepoint: begin_nested() flushes what is pending first, so a
        # change made before it would fail the whole transaction instead of this savepoint alone.
        with session.begin_nested():
            for field in _EDITABLE:
                if field in changes:
                    setattr(agent, field, changes[field])
            if _snapshot(agent) != before:
                agent.updated_at = datetime.now(UTC)
    except IntegrityError:
        raise Conflict(f"An agent with slug '{changes['slug']}' already exists.", code="slug_taken") from None
    if _snapshot(agent) == before:
        return agent
    audit.record(
        session,
        caller,
        AuditAction.AGENT_UPDATE,
        resource_type="agent",
        resource_id=agent.id,
        before=before,
        after=_snapshot(agent),
    )
    return agent


def archive_agent(session: Session, caller: Principal, agent_id: str) -> None:
    agent = get_agent(session, caller, agent_id)
    if not can_delete(caller.role, caller_id=caller.user_id, creator_id=agent.created_by_id):
        raise Forbidden("You can only archive agents you created.")
    if agent.status == "ARCHIVED":
        return
    before = _snapshot(agent)
    agent.status = "ARCHIVED"
    agent.updated_at = datetime.now(UTC)
    audit.record(
        session,
        caller,
        AuditAction.AGENT_ARCHIVE,
        resource_type="agent",
        resource_id=agent.id,
        before=before,
        after=_snapshot(agent),
    )
