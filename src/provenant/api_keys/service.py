"""API keys: created with the raw key shown once, listed by who may see them, rolled, revoked for good."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, aliased, contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth import security
from provenant.auth.principal import Actor, Principal
from provenant.auth.roles import Access, Action, can_roll_key
from provenant.errors import Conflict, Forbidden, NotFound, ValidationFailed
from provenant.models import ApiKey, User
from provenant.paging import Page, PageRequest, Position, newest_first, page_of

# A person needs a few keys (a laptop, CI, an agent or two); a hundred bounds what a leaked JWT or a
# runaway script can mint, and the list a person must review.
MAX_ACTIVE_KEYS_PER_USER = 100


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: the stored row, and the raw key that this one response shows."""

    stored: ApiKey
    secret: str


def snapshot(key: ApiKey) -> dict[str, Any]:
    """A key as the audit log records it: never the key or its hash."""
    return audit.snapshot(
        key,
        "id",
        "name",
        "key_prefix",
        "access",
        "rate_limit_per_minute",
        "expires_at",
        "revoked_at",
        "revoked_reason",
        "rolled_to_id",
    )


def _visible_to(caller: Principal) -> Select[ApiKey]:
    """OWNER and ADMIN see every key of the org; everyone else their own. Each with its creator."""
    query = select(ApiKey).join(ApiKey.user).options(contains_eager(ApiKey.user)).where(ApiKey.org_id == caller.org_id)
    if not caller.can(Action.MANAGE_ORG_KEYS):
        query = query.where(ApiKey.user_id == caller.user_id)
    return query


def visible_key(session: Session, caller: Principal, key_id: str, *, for_update: bool = False) -> ApiKey:
    """A key the caller may see and act on, with its creator; "not found" for anyone else's."""
    query = _visible_to(caller).where(ApiKey.id == key_id)
    if for_update:
        query = query.with_for_update(of=ApiKey)
    key = session.scalars(query).one_or_none()
    if key is None:
        raise NotFound("API key")
    return key


def roll_chain(session: Session, key_id: str, *, user_id: str) -> list[str]:
    """``key_id`` and every key it was rolled from or into, directly or not: one credential at its
    successive times (a roll keeps the creator, org, access and name). Rolled keys stay in the table
    once revoked or expired, so the chain is whole; it never leaves ``user_id``'s keys."""
    step = aliased(ApiKey)
    chain = select(ApiKey.id, ApiKey.rolled_to_id).where(ApiKey.id == key_id).cte("chain", recursive=True)
    chain = chain.union(
        select(step.id, step.rolled_to_id)
        .join(chain, or_(step.rolled_to_id == chain.c.id, step.id == chain.c.rolled_to_id))
        .where(step.user_id == user_id)
    )
    return list(session.scalars(select(chain.c.id)))


def same_credential(session: Session, key_id: str, *, user_id: str) -> "list[str] | Select[str]":
    """The keys that are one credential with ``key_id``: its roll chain; for a key a CI job exchanged its ID
    token for, every key of that trust policy. The policy stands where the key stored in CI's secrets stood,
    and a job that outlives its key carries on, with the next one, the sessions it opened."""
    policy_id = session.scalar(select(ApiKey.policy_id).where(ApiKey.id == key_id))
    if policy_id is not None:
        return select(ApiKey.id).where(ApiKey.policy_id == policy_id, ApiKey.user_id == user_id)
    return roll_chain(session, key_id, user_id=user_id)


def list_keys(session: Session, caller: Principal, *, include_revoked: bool, page: PageRequest) -> Page[ApiKey]:
    """A page of the keys the caller may see, newest first."""
    query = _visible_to(caller)
    if not include_revoked:
        # A CI job's key past its expiry is gone for good, and a busy CI leaves hundreds a day.
        now = datetime.now(UTC)
        query = query.where(ApiKey.revoked_at.is_(None), or_(ApiKey.policy_id.is_(None), ApiKey.expires_at > now))
    keys = session.scalars(newest_first(query, ApiKey.created_at, ApiKey.id, page)).all()
    return page_of(keys, page, lambda key: Position(key.created_at, key.id))


def create_key(
    session: Session,
    caller: Principal,
    *,
    name: str,
    expires_at: datetime | None,
    access: Access = Access.FULL,
    rate_limit_per_minute: int | None = None,
) -> NewKey:
    """The only place a raw key exists: it is returned here and stored as its SHA-256 alone."""
    now = datetime.now(UTC)
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("expiresAt", "must be in the future")
    _check_key_limit(session, caller.user_id, caller.org_id, now=now)
    owner = session.get_one(User, caller.user_id)
    key, raw = _new_key(
        session,
        owner=owner,
        org_id=caller.org_id,
        name=name,
        expires_at=expires_at,
        access=access,
        rate_limit_per_minute=rate_limit_per_minute,
        now=now,
    )
    audit.record(
        session, caller, AuditAction.APIKEY_CREATE, resource_type="api_key", resource_id=key.id, after=snapshot(key)
    )
    return NewKey(key, raw)


def mint_ephemeral_key(
    session: Session, *, owner_id: str, org_id: str, policy_id: str, name: str, access: str, expires_at: datetime
) -> NewKey:
    """A key for a CI job whose ID token a trust policy accepted (trust.exchange, which audits it): an
    ordinary key of the policy's creator that expires within the hour. Not counted against the creator's
    own limit of keys: a busy CI mints many, and each dies on its own."""
    now = datetime.now(UTC)
    owner = session.get_one(User, owner_id)
    key, raw = _new_key(
        session,
        owner=owner,
        org_id=org_id,
        name=name,
        expires_at=expires_at,
        access=access,
        rate_limit_per_minute=None,  # CI keys live minutes; per-key limits are for long-lived keys
        now=now,
        policy_id=policy_id,
    )
    return NewKey(key, raw)


def revoke_keys_of_policy(session: Session, policy_id: str, *, now: datetime) -> int:
    """Revokes every key minted under a trust policy that is being deleted; how many were still unrevoked."""
    result = session.execute(
        update(ApiKey)
        .where(ApiKey.policy_id == policy_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason="revoked")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _new_key(
    session: Session,
    *,
    owner: User,
    org_id: str,
    name: str,
    expires_at: datetime | None,
    access: str,
    rate_limit_per_minute: int | None,
    now: datetime,
    policy_id: str | None = None,
) -> tuple[ApiKey, str]:
    raw = security.generate_api_key()
    key = ApiKey(
        org_id=org_id,
        user_id=owner.id,
        name=name,
        key_hash=security.hash_secret(raw),
        key_prefix=security.api_key_display_prefix(raw),
        access=access,
        rate_limit_per_minute=rate_limit_per_minute,
        expires_at=expires_at,
        created_at=now,
        policy_id=policy_id,
    )
    session.add(key)
    session.flush()
    set_committed_value(key, "user", owner)  # shown with the key; read-only, so set without history
    return key, raw


def _check_key_limit(
    session: Session, user_id: str, org_id: str, *, now: datetime, replacing: str | None = None
) -> None:
    """409 when the person already holds the most active keys one may (``replacing`` not counted).

    Counted under a lock on the person's user row, held until commit, so that two creations at 99 in
    two processes on PostgreSQL cannot both pass (on SQLite the request's transaction already holds
    the database's write lock)."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    active = select(func.count()).where(
        ApiKey.user_id == user_id,
        ApiKey.org_id == org_id,
        ApiKey.revoked_at.is_(None),
        ApiKey.policy_id.is_(None),  # a CI job's keys are not the person's to manage
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
    )
    if replacing is not None:
        active = active.where(ApiKey.id != replacing)
    if (session.scalar(active) or 0) >= MAX_ACTIVE_KEYS_PER_USER:
        raise Conflict(
            f"You already have {MAX_ACTIVE_KEYS_PER_USER} active API keys, the most one person may hold: "
            "revoke one you no longer use, then create this one.",
            code="key_limit_reached",
        )


def revoke_key(session: Session, caller: Principal, key_id: str) -> None:
    """Permanent and idempotent; a key the caller may not see is "not found"."""
    key = visible_key(session, caller, key_id)
    if key.revoked_at is None:
        revoke(session, caller, key, now=datetime.now(UTC))


def revoke(
    session: Session, actor: Actor, key: ApiKey, *, now: datetime, leaked: bool = False, user_id: str | None = None
) -> None:
    """Revokes ``key`` for good, with its one audit entry: ``apikey.revoke`` (``apikey.revoked_leaked`` when it was
    reported exposed), the key before and after, in the key's org. Every revocation of a single key comes here,
    whoever asks (its creator, an OWNER, a leak report); ``user_id`` names the person for an anonymous actor."""
    before = snapshot(key)
    key.revoked_at = now
    key.revoked_reason = "leaked" if leaked else "revoked"
    audit.record(
        session,
        actor,
        AuditAction.APIKEY_REVOKED_LEAKED if leaked else AuditAction.APIKEY_REVOKE,
        resource_type="api_key",
        resource_id=key.id,
        before=before,
        after=snapshot(key),
        org_id=key.org_id,
        user_id=user_id,
    )


def roll_key(session: Session, caller: Principal, key_id: str, *, grace: timedelta) -> NewKey:
    """A new key with the old one's name, access, rate limit, expiry and creator; the old one works for ``grace``
    more (or until its own earlier expiry) and then answers ``api_key_expired``, in every process.

    Only the key's creator may roll it (auth.roles.can_roll_key): the new key acts as its creator.
    Anyone else who may see the key (OWNER, ADMIN) gets 403 and may revoke it instead."""
    now = datetime.now(UTC)
    old = visible_key(session, caller, key_id, for_update=True)
    if not can_roll_key(caller.role, caller_id=caller.user_id, creator_id=old.user_id):
        raise Forbidden(
            "Only the person who created this key can roll it: the new key would act as them. "
            "You may revoke it; they can then create or roll a key of their own."
        )
    _check_rollable(old, now=now)
    _check_key_limit(session, old.user_id, old.org_id, now=now, replacing=old.id)
    before = snapshot(old)
    new, raw = _new_key(
        session,
        owner=old.user,
        org_id=old.org_id,
        name=old.name,
        expires_at=old.expires_at,
        access=old.access,
        rate_limit_per_minute=old.rate_limit_per_minute,
        now=now,
    )
    ends = now + grace
    old.expires_at = ends if old.expires_at is None else min(old.expires_at, ends)
    old.rolled_to_id = new.id
    audit.record(
        session,
        caller,
        AuditAction.APIKEY_ROLL,
        resource_type="api_key",
        resource_id=old.id,
        before=before,
        after={**snapshot(old), "newKey": snapshot(new)},
    )
    return NewKey(new, raw)


def _check_rollable(key: ApiKey, *, now: datetime) -> None:
    if key.policy_id is not None:
        raise Conflict(
            "This key was minted for a CI job by its trust policy: the job exchanges a new ID token instead.",
            code="api_key_ephemeral",
        )
    if key.revoked_at is not None:
        raise Conflict("This key is revoked: create a new key instead.", code="api_key_revoked")
    if key.rolled_to_id is not None:
        raise Conflict("This key was already rolled: roll its replacement instead.", code="api_key_rolled")
    if key.expires_at is not None and key.expires_at <= now:
        raise Conflict("This key has expired: create a new key instead.", code="api_key_expired")
