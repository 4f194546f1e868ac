"""API keys: created with the raw key shown once, listed by who may see them, revoked for good."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth import security
from provenant.auth.principal import Principal
from provenant.auth.roles import Action
from provenant.errors import Conflict, NotFound, ValidationFailed
from provenant.models import ApiKey, User

# A person needs a few keys (a laptop, CI, an agent or two); a hundred bounds what a leaked JWT or a
# runaway script can mint, and the list a person must review.
MAX_ACTIVE_KEYS_PER_USER = 100


@dataclass(frozen=True, slots=True)
class KeyView:
    """A key as the API shows it: never the hash."""

    id: str
    name: str
    key_prefix: str
    is_active: bool
    expires_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime
    revoked_at: datetime | None
    user: dict[str, str]
    key: str | None = None


def _view(key: ApiKey, owner: User, *, now: datetime, raw: str | None = None) -> KeyView:
    active = key.revoked_at is None and (key.expires_at is None or key.expires_at > now)
    return KeyView(
        id=key.id,
        name=key.name,
        key_prefix=key.key_prefix,
        is_active=active,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        user={"id": owner.id, "name": owner.name, "email": owner.email},
        key=raw,
    )


def _snapshot(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "keyPrefix": key.key_prefix,
        "expiresAt": key.expires_at.isoformat() if key.expires_at else None,
        "revokedAt": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def _visible_to(caller: Principal) -> Select[tuple[ApiKey, User]]:
    """OWNER and ADMIN see every key of the org; everyone else their own."""
    query = select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.org_id == caller.org_id)
    if not caller.can(Action.MANAGE_ORG_KEYS):
        query = query.where(ApiKey.user_id == caller.user_id)
    return query


def list_keys(session: Session, caller: Principal, *, include_revoked: bool) -> list[KeyView]:
    query = _visible_to(caller).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    now = datetime.now(UTC)
    return [_view(key, owner, now=now) for key, owner in session.execute(query)]


def create_key(session: Session, caller: Principal, *, name: str, expires_at: datetime | None) -> KeyView:
    """The only place a raw key exists: it is returned here and stored as its SHA-256 alone."""
    now = datetime.now(UTC)
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("expiresAt", "must be in the future")
    if _active_keys_of_caller(session, caller, now=now) >= MAX_ACTIVE_KEYS_PER_USER:
        raise Conflict(
            f"You already have {MAX_ACTIVE_KEYS_PER_USER} active API keys, the most one person may hold: "
            "revoke one you no longer use, then create this one.",
            code="key_limit_reached",
        )
    raw = security.generate_api_key()
    key = ApiKey(
        org_id=caller.org_id,
        user_id=caller.user_id,
        name=name,
        key_hash=security.hash_secret(raw),
        key_prefix=security.api_key_display_prefix(raw),
        expires_at=expires_at,
        created_at=now,
    )
    session.add(key)
    session.flush()
    audit.record(
        session, caller, AuditAction.APIKEY_CREATE, resource_type="api_key", resource_id=key.id,
        after=_snapshot(key),
    )
    owner = session.get_one(User, caller.user_id)
    return _view(key, owner, now=now, raw=raw)


def _active_keys_of_caller(session: Session, caller: Principal, *, now: datetime) -> int:
    """Neither revoked nor expired, in the caller's org. Counted under a lock on the caller's user row,
    held until commit, so that two creations at 99 in two processes on PostgreSQL cannot both pass (on
    SQLite the request's transaction already holds the database's write lock)."""
    session.execute(select(User.id).where(User.id == caller.user_id).with_for_update())
    active = select(func.count()).where(
        ApiKey.user_id == caller.user_id,
        ApiKey.org_id == caller.org_id,
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
    )
    return session.scalar(active) or 0


def revoke_key(session: Session, caller: Principal, key_id: str) -> None:
    """Permanent and idempotent; a key the caller may not see is "not found"."""
    row = session.execute(_visible_to(caller).where(ApiKey.id == key_id)).one_or_none()
    if row is None:
        raise NotFound("API key")
    key = row[0]
    if key.revoked_at is not None:
        return
    before = _snapshot(key)
    key.revoked_at = datetime.now(UTC)
    audit.record(
        session, caller, AuditAction.APIKEY_REVOKE, resource_type="api_key", resource_id=key.id,
        before=before, after=_snapshot(key),
    )
