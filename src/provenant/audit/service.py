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
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from provenant.audit.actions import AuditAction
from provenant.auth.principal import Actor
from provenant.models import AuditEntry, User
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


def _query(org_id: str, where: AuditFilter) -> Select[Any]:
    query = (
        select(AuditEntry, User.name, User.email)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .where(AuditEntry.org_id == org_id)
    )
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
    return query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


def list_entries(session: Session, org_id: str, where: AuditFilter, *, limit: int) -> list[dict[str, Any]]:
    return [_as_dict(*row) for row in session.execute(_query(org_id, where).limit(limit))]


def iter_entries(
    session_factory: Any, org_id: str, where: AuditFilter, *, page_size: int = 500
) -> Iterator[dict[str, Any]]:
    """Every matching entry, newest first, a page per short transaction (keyset pagination)."""
    cursor: tuple[datetime, str] | None = None
    while True:
        query = _query(org_id, where)
        if cursor is not None:
            created_at, entry_id = cursor
            query = query.where(
                (AuditEntry.created_at < created_at)
                | ((AuditEntry.created_at == created_at) & (AuditEntry.id < entry_id))
            )
        with session_factory() as session:
            rows = session.execute(query.limit(page_size)).all()
        for row in rows:
            yield _as_dict(*row)
        if len(rows) < page_size:
            return
        last = rows[-1][0]
        cursor = (last.created_at, last.id)


def _as_dict(entry: AuditEntry, user_name: str | None, user_email: str | None) -> dict[str, Any]:
    user = {"id": entry.user_id, "name": user_name, "email": user_email} if entry.user_id else None
    return {
        "id": entry.id,
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "user": user,
        "api_key_id": entry.api_key_id,
        "before": entry.before,
        "after": entry.after,
        "ip_address": entry.ip_address,
        "user_agent": entry.user_agent,
        "created_at": entry.created_at,
    }
