"""How a bearer token is verified: the one place that turns ``Authorization`` into a Principal.

A token starting with ``pk_live_`` is an API key, anything else a JWT. Every check reads the
database, so revocation, expiry (a rolled key's grace period too), demotion and removal take effect
on the next request in every server process. Each path is a single indexed query; a key's use is
counted in memory (``key_use``) and written now and then, never once per request.
"""

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, exists, select

from provenant.api_keys.key_use import KeyUse
from provenant.auth import security
from provenant.auth.principal import Principal
from provenant.auth.roles import Access, Role
from provenant.db import Database
from provenant.errors import Unauthenticated
from provenant.hot_path_sql import LeanQuery, utc
from provenant.models import ApiKey, Org, RevokedToken, User

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

# The rows are read by position (see provenant.hot_path_sql): the names must follow the SELECT's order.
assert tuple(_key_query.selected_columns.keys()) == KeyRow._fields
assert tuple(_user_query.selected_columns.keys()) == UserRow._fields

# Run on every request: see provenant.hot_path_sql for why these skip SQLAlchemy's execution layer.
_key_lookup = LeanQuery(lambda _dialect: _key_query)
_user_lookup = LeanQuery(lambda _dialect: _user_query)
_ACCESS = {access.value: access for access in Access}


def authenticate_api_key(
    database: Database, key: str, *, key_use: KeyUse, now: datetime, ip: str | None, user_agent: str | None
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
    key_use.record(row.key_id, now, written_last_used=utc(row.last_used_at))
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
    key_use: KeyUse,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
) -> Principal:
    if not token:
        raise Unauthenticated()
    if token.startswith(security.API_KEY_PREFIX):
        return authenticate_api_key(database, token, key_use=key_use, now=now, ip=ip, user_agent=user_agent)
    return authenticate_jwt(database, token, secret=secret, ip=ip, user_agent=user_agent)
