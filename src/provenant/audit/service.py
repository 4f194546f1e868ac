"""Writing and reading the audit log.

``record`` adds the entry to the caller's session, so it commits or rolls back with the change it
describes. Snapshots (``before``/``after``) come from ``snapshot``, which each domain calls with the
public fields it names: never a key, a hash, a password or a token.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from pydantic.alias_generators import to_camel
from sqlalchemy import Connection, Select, select
from sqlalchemy.orm import Session, joinedload

from provenant.audit.actions import AuditAction
from provenant.auth.principal import Actor
from provenant.models import AuditEntry
from provenant.paging import Page, PageRequest, Position, newest_first, page_of
from provenant.schemas import format_timestamp

MAX_USER_AGENT = 512


def snapshot(obj: object, *fields: str, **extra: Any) -> dict[str, Any]:
    """``fields`` of ``obj`` as the API writes them (camelCase names, ``Z`` timestamps, enums by
    value), plus ``extra`` (camelCase given): the one builder of every entry's before and after."""
    values = {to_camel(field): getattr(obj, field) for field in fields} | extra
    return {name: _as_written(value) for name, value in values.items()}


def _as_written(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_as_written(item) for item in value]
    return value


def record(
    session: Session,
    actor: Actor,
    action: AuditAction,
    *,
    resource_type: str,
    resource_id: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    org_id: str | None = None,
    user_id: str | None = None,
) -> None:
    """``org_id``/``user_id`` override the actor's for public routes, where the actor is anonymous."""
    session.add(
        AuditEntry(
            org_id=org_id or actor.org_id,
            user_id=user_id or actor.user_id,
            api_key_id=actor.api_key_id,
            action=action.value,
            resource_type=resource_type,
            resource_id=resource_id,
            before=before,
            after=after,
            ip_address=actor.ip_address,
            user_agent=(actor.user_agent or "")[:MAX_USER_AGENT] or None,
        )
    )


@dataclass(frozen=True, slots=True)
class AuditFilter:
    action: str | None = None
    user_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


_REST_OF_MILLISECOND = timedelta(microseconds=999)


def _start_of_millisecond(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _query(org_id: str, where: AuditFilter) -> Select[AuditEntry]:
    query = select(AuditEntry).options(joinedload(AuditEntry.user)).where(AuditEntry.org_id == org_id)
    if where.action:
        query = query.where(AuditEntry.action == where.action)
    if where.user_id:
        query = query.where(AuditEntry.user_id == where.user_id)
    if where.resource_type:
        query = query.where(AuditEntry.resource_type == where.resource_type)
    if where.resource_id:
        query = query.where(AuditEntry.resource_id == where.resource_id)
    # Both bounds are inclusive to the millisecond, the resolution createdAt is shown in: an
    # entry's own createdAt, given as from and to, finds it although it is stored more finely.
    if where.since:
        query = query.where(AuditEntry.created_at >= _start_of_millisecond(where.since))
    if where.until:
        # <= its last microsecond rather than < the next millisecond, which would overflow at 9999-12-31.
        query = query.where(AuditEntry.created_at <= _start_of_millisecond(where.until) + _REST_OF_MILLISECOND)
    return query


def _position(entry: AuditEntry) -> Position:
    return Position(entry.created_at, entry.id)


def list_entries(session: Session, org_id: str, where: AuditFilter, page: PageRequest) -> Page[AuditEntry]:
    """A page of the matching entries, newest first, each with the user who acted."""
    query = newest_first(_query(org_id, where), AuditEntry.created_at, AuditEntry.id, page)
    return page_of(session.scalars(query).all(), page, _position)


def iter_pages(
    connection: Connection, org_id: str, where: AuditFilter, *, page_size: int = 500
) -> Iterator[list[AuditEntry]]:
    """Every matching entry, newest first, a page at a time: each page a short transaction of its own
    (nothing held open between pages), all on ``connection`` (no page waits for the pool)."""
    page = PageRequest(page_size, after=None)
    while True:
        with Session(bind=connection, expire_on_commit=False) as session:
            listed = list_entries(session, org_id, where, page)
        if listed.items:
            yield listed.items
        if listed.next is None:
            return
        page = PageRequest(page_size, after=listed.next)
