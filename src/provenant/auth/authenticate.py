"""How a bearer token is verified: the one place that turns ``Authorization`` into a Principal.

A token starting with ``pk_live_`` is an API key, anything else a JWT. Every check reads the
database, so revocation, expiry (a rolled key's grace period too), demotion and removal take effect
on the next request in every server process. Each path is a single indexed query; a key's use is
counted in memory (see KeyUse) and written now and then, never once per request.
"""

import asyncio
import logging
import threading
import weakref
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite

from provenant.auth import security
from provenant.auth.principal import Principal
from provenant.auth.roles import Access, Role
from provenant.db import Database
from provenant.errors import Unauthenticated
from provenant.lean import LeanQuery, utc
from provenant.models import ApiKey, ApiKeyUsage, Org, RevokedToken, User

logger = logging.getLogger(__name__)

_keys, _users, _orgs, _revoked = ApiKey.__table__, User.__table__, Org.__table__, RevokedToken.__table__


class KeyRow(NamedTuple):
    """One row of the key lookup: the key, then its creator as they are now."""

    key_id: str
    key_name: str
    key_org_id: str
    access: str
    rate_limit_per_minute: int | None
    expires_at: datetime | str | None
    revoked_at: datetime | str | None
    last_used_at: datetime | str | None
    user_id: str
    org_id: str | None  # the creator's org now: another one, or None, once they left this one
    role: str | None
    name: str
    email: str
    org_name: str | None
    org_slug: str | None
    two_factor: bool | int  # SQLite answers 0 or 1 (the lean reader skips type processing)
    org_requires_two_factor: bool | int | None


class UserRow(NamedTuple):
    """One row of the JWT lookup: the user, their token generation, and whether this token was signed out."""

    user_id: str
    org_id: str | None
    role: str | None
    name: str
    email: str
    org_name: str | None
    org_slug: str | None
    two_factor: bool | int
    org_requires_two_factor: bool | int | None
    token_generation: int
    revoked: bool


_user_columns = (
    _users.c.id.label("user_id"),
    _users.c.org_id,
    _users.c.role,
    _users.c.name,
    _users.c.email,
    _orgs.c.name.label("org_name"),
    _orgs.c.slug.label("org_slug"),
    # Two columns of rows the query reads anyway: the two-factor gate costs no query of its own.
    _users.c.totp_enabled_at.is_not(None).label("two_factor"),
    _orgs.c.require_two_factor.label("org_requires_two_factor"),
)

_key_query = (
    select(
        _keys.c.id.label("key_id"),
        _keys.c.name.label("key_name"),
        _keys.c.org_id.label("key_org_id"),
        _keys.c.access,
        _keys.c.rate_limit_per_minute,
        _keys.c.expires_at,
        _keys.c.revoked_at,
        _keys.c.last_used_at,
        *_user_columns,
    )
    .join(_users, _users.c.id == _keys.c.user_id)
    .outerjoin(_orgs, _orgs.c.id == _users.c.org_id)
    .where(_keys.c.key_hash == bindparam("key_hash"))
)

# One query, by primary keys.
_user_query = (
    select(
        *_user_columns,
        _users.c.token_generation,
        exists().where(_revoked.c.jti == bindparam("jti")).label("revoked"),
    )
    .outerjoin(_orgs, _orgs.c.id == _users.c.org_id)
    .where(_users.c.id == bindparam("user_id"))
)

# The rows are read by position (see provenant.lean): the names must follow the SELECT's order.
assert tuple(_key_query.selected_columns.keys()) == KeyRow._fields
assert tuple(_user_query.selected_columns.keys()) == UserRow._fields

# Run on every request: see provenant.lean for why these skip SQLAlchemy's execution layer.
_key_lookup = LeanQuery(lambda _dialect: _key_query)
_user_lookup = LeanQuery(lambda _dialect: _user_query)
_ACCESS = {access.value: access for access in Access}


def authenticate_api_key(
    database: Database, key: str, *, now: datetime, ip: str | None, user_agent: str | None
) -> Principal:
    if not security.is_well_formed_api_key(key):
        raise Unauthenticated("Invalid API key.", code="invalid_api_key")
    found = _key_lookup.one_or_none(database.reader, key_hash=security.hash_secret(key))
    if found is None:
        raise Unauthenticated("Invalid API key.", code="invalid_api_key")
    row = KeyRow._make(found)
    if row.revoked_at is not None:
        raise Unauthenticated("This API key has been revoked.", code="api_key_revoked")
    expires_at = utc(row.expires_at)
    if expires_at is not None and expires_at <= now:
        raise Unauthenticated("This API key has expired.", code="api_key_expired")
    if row.org_id != row.key_org_id or row.role is None:
        raise Unauthenticated(
            "The user who created this API key is no longer a member of the organization.",
            code="api_key_owner_removed",
        )
    key_use(database).record(row.key_id, now, written_last_used=utc(row.last_used_at))
    return _principal_of(
        row,
        ip=ip,
        user_agent=user_agent,
        api_key_id=row.key_id,
        api_key_name=row.key_name,
        access=_ACCESS[row.access],
        rate_limit_per_minute=row.rate_limit_per_minute,
    )


def _principal_of(
    user: "KeyRow | UserRow",
    *,
    ip: str | None,
    user_agent: str | None,
    api_key_id: str | None = None,
    api_key_name: str | None = None,
    access: Access = Access.FULL,
    rate_limit_per_minute: int | None = None,
) -> Principal:
    assert user.org_id is not None and user.role is not None  # checked by the callers: still a member
    return Principal(
        org_id=user.org_id,
        user_id=user.user_id,
        role=Role(user.role),
        name=user.name,
        email=user.email,
        org_name=user.org_name or "",
        org_slug=user.org_slug or "",
        api_key_id=api_key_id,
        api_key_name=api_key_name,
        access=access,
        rate_limit_per_minute=rate_limit_per_minute,
        two_factor=bool(user.two_factor),
        org_requires_two_factor=bool(user.org_requires_two_factor),
        ip_address=ip,
        user_agent=user_agent,
    )


def jwt_claims(token: str, *, secret: str) -> security.JwtClaims:
    """The checked claims of a JWT, without reading the database: 401 for a bad or expired token."""
    try:
        return security.decode_jwt(token, secret)
    except security.TokenExpired:
        raise Unauthenticated("Your session has expired; sign in again.", code="token_expired") from None
    except security.TokenInvalid:
        raise Unauthenticated("Invalid token.", code="invalid_token") from None


def authenticate_jwt(
    database: Database, token: str, *, secret: str, ip: str | None, user_agent: str | None
) -> Principal:
    claims = jwt_claims(token, secret=secret)
    found = _user_lookup.one_or_none(database.reader, user_id=claims.user_id, jti=claims.token_id)
    if found is None:
        raise Unauthenticated("This account no longer belongs to an organization.", code="invalid_token")
    row = UserRow._make(found)
    if row.revoked or row.token_generation != claims.generation:
        # Signed out (this token), signed out everywhere, or the password changed since it was issued.
        raise Unauthenticated("This session has been signed out; sign in again.", code="token_revoked")
    if row.org_id is None or row.role is None:
        raise Unauthenticated("This account no longer belongs to an organization.", code="invalid_token")
    return _principal_of(row, ip=ip, user_agent=user_agent)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None for anything else."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def authenticate_bearer(
    database: Database,
    token: str | None,
    *,
    secret: str,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
) -> Principal:
    if not token:
        raise Unauthenticated()
    if token.startswith(security.API_KEY_PREFIX):
        return authenticate_api_key(database, token, now=now, ip=ip, user_agent=user_agent)
    return authenticate_jwt(database, token, secret=secret, ip=ip, user_agent=user_agent)


# --- key use: lastUsedAt and requests per key per UTC day -----------------------------------------


@cache  # one statement per dialect, shared by every app in the process: building it cost each create_app() ~0.8 ms
def _add_requests(dialect: str) -> Any:
    """requests = requests + n for (key, day): what several processes count of one key adds up."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ApiKeyUsage).values(
        api_key_id=bindparam("key_id"), day=bindparam("day"), requests=bindparam("requests")
    )
    return statement.on_conflict_do_update(
        index_elements=[ApiKeyUsage.api_key_id, ApiKeyUsage.day],
        set_={"requests": ApiKeyUsage.requests + statement.excluded.requests},
    )


# Never moves lastUsedAt backwards, whichever process writes last.
_touch_last_used = (
    update(ApiKey)
    .where(ApiKey.id == bindparam("key_id"))
    .where(ApiKey.last_used_at.is_(None) | (ApiKey.last_used_at < bindparam("used_at")))
    .values(last_used_at=bindparam("used_at"))
)


class KeyUse:
    """What this process counted of key use since it last wrote it: requests per (key, UTC day) and
    each key's latest use, written together in one short transaction of their own.

    Written when a key's stored lastUsedAt is missing (its first use shows at once) or one ``interval``
    old (the setting key_use_write_interval, 30 s by default); when the oldest unwritten use is one
    interval old (noticed by the next request, or by a timer if none comes); and when the app shuts
    down. So there is no write per request, and a use counts even when its request is then refused or
    fails. A write that fails keeps its counts for the next one, an interval later, and is only logged:
    hence the setting's cap of 30 s, for lastUsedAt and usage promise to lag by at most a minute.

    No request writes for it: a write runs on the event loop as a callback of its own (the loop's next
    turn, or the timer), whole, with no await inside (the rule of provenant.db), or at shutdown.
    """

    def __init__(self, database: Database, *, interval: timedelta) -> None:
        self._database = database
        self._interval = interval
        self._add_requests = _add_requests(database.engine.dialect.name)
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, date]] = Counter()
        self._last_used: dict[str, datetime] = {}
        self._due: datetime | None = None  # when the oldest unwritten use must be written
        self._paused_until: datetime | None = None  # after a failed write
        self._timer: asyncio.TimerHandle | None = None
        self._soon_loop: asyncio.AbstractEventLoop | None = None  # a write is queued on this loop

    def record(self, key_id: str, now: datetime, *, written_last_used: datetime | None) -> None:
        with self._lock:
            self._requests[key_id, now.date()] += 1
            if self._last_used.get(key_id, now) <= now:
                self._last_used[key_id] = now
            first = self._due is None
            if self._due is None:
                self._due = now + self._interval
            due = now >= self._due or written_last_used is None or now - written_last_used >= self._interval
        if due and (self._paused_until is None or now >= self._paused_until):
            self._write_soon()
        elif first:
            self._write_later()

    def write(self, now: datetime | None = None) -> None:
        """Writes everything counted so far; on failure keeps it and logs why (never a key or a hash)."""
        now = now or datetime.now(UTC)
        with self._lock:
            requests, self._requests = self._requests, Counter()
            last_used, self._last_used = self._last_used, {}
            self._due = None
        self._cancel_timer()
        if not requests:
            return
        try:
            with self._database.transaction() as session:
                # On the connection: a list of parameters is an executemany, not the ORM's bulk update.
                connection = session.connection()
                connection.execute(
                    self._add_requests,
                    [{"key_id": key, "day": day, "requests": n} for (key, day), n in requests.items()],
                )
                connection.execute(_touch_last_used, [{"key_id": key, "used_at": at} for key, at in last_used.items()])
        except Exception as error:  # whatever failed, the counts are kept and requests go on
            self._keep(requests, last_used, now=now)
            reason = getattr(error, "orig", None) or error  # the engine hides statement parameters
            logger.warning(
                "key use not written (%s: %s); %d counts kept for the next attempt",
                type(error).__name__,
                reason,
                sum(requests.values()),
            )
        else:
            self._paused_until = None

    def _keep(self, requests: Counter[tuple[str, date]], last_used: dict[str, datetime], *, now: datetime) -> None:
        with self._lock:
            self._requests.update(requests)
            for key, at in last_used.items():
                if self._last_used.get(key, at) <= at:
                    self._last_used[key] = at
            self._paused_until = self._due = now + self._interval
        self._write_later()

    def _write_soon(self) -> None:
        """A callback of its own at the event loop's next turn: between two turns of whatever request is
        running, so never inside one's transaction, and before the loop takes a request that comes later."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.write()  # called outside any loop: write now
            return
        if self._soon_loop is not loop:
            self._soon_loop = loop
            loop.call_soon(self._on_soon)

    def _on_soon(self) -> None:
        self._soon_loop = None
        self.write()

    def _write_later(self) -> None:
        """A timer on the running event loop, so that uses with no request after them are written too."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # called outside any loop: the next request or the shutdown writes them
        self._cancel_timer()
        self._timer = loop.call_later(self._interval.total_seconds(), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.write()

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()


_key_uses: "weakref.WeakKeyDictionary[Database, KeyUse]" = weakref.WeakKeyDictionary()


def count_key_use(database: Database, *, interval: timedelta) -> None:
    """Counts the use of ``database``'s keys from now on, written every ``interval`` (see KeyUse)."""
    _key_uses[database] = KeyUse(database, interval=interval)


def key_use(database: Database) -> KeyUse:
    """What this process counted of the use of ``database``'s keys (count_key_use began it)."""
    return _key_uses[database]


def write_key_use(database: Database) -> None:
    """Writes every key use counted so far (at shutdown, so that nothing counted is lost)."""
    counted = _key_uses.get(database)
    if counted is not None:
        counted.write()
