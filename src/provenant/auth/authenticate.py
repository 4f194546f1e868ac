"""How a bearer token is verified: the one place that turns ``Authorization`` into a Principal.

A token starting with ``pk_live_`` is an API key, anything else a JWT. Every check reads the
database, so revocation, expiry, demotion and removal take effect on the next request in every
server process. Each path is a single indexed query.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, select, update

from provenant.auth import security
from provenant.auth.principal import Principal
from provenant.auth.roles import Role
from provenant.db import Database
from provenant.errors import Unauthenticated
from provenant.lean import LeanQuery, utc
from provenant.models import ApiKey, Org, RevokedToken, User

# lastUsedAt is rewritten at most this often per key (the contract allows 60 s of lag).
LAST_USED_RESOLUTION = timedelta(seconds=30)

_keys, _users, _orgs, _revoked = ApiKey.__table__, User.__table__, Org.__table__, RevokedToken.__table__
_user_columns = (_users.c.id, _users.c.org_id, _users.c.role, _users.c.name, _users.c.email, _orgs.c.name, _orgs.c.slug)

_key_query = (
    select(
        _keys.c.id,
        _keys.c.name,
        _keys.c.org_id,
        _keys.c.expires_at,
        _keys.c.revoked_at,
        _keys.c.last_used_at,
        *_user_columns,
    )
    .join(_users, _users.c.id == _keys.c.user_id)
    .outerjoin(_orgs, _orgs.c.id == _users.c.org_id)
    .where(_keys.c.key_hash == bindparam("key_hash"))
)

# The user behind a JWT, the generation their tokens must carry, and whether this token was signed
# out: one query, by primary keys.
_user_query = (
    select(
        *_user_columns,
        _users.c.token_generation,
        exists().where(_revoked.c.jti == bindparam("jti")).label("revoked"),
    )
    .outerjoin(_orgs, _orgs.c.id == _users.c.org_id)
    .where(_users.c.id == bindparam("user_id"))
)


# Run on every request: see provenant.lean for why these skip SQLAlchemy's execution layer.
_key_lookup = LeanQuery(lambda _dialect: _key_query)
_user_lookup = LeanQuery(lambda _dialect: _user_query)


def authenticate_api_key(
    database: Database, key: str, *, now: datetime, ip: str | None, user_agent: str | None
) -> Principal:
    if not security.is_well_formed_api_key(key):
        raise Unauthenticated("Invalid API key.", code="invalid_api_key")
    row = _key_lookup.one_or_none(database.reader, key_hash=security.hash_secret(key))
    if row is None:
        raise Unauthenticated("Invalid API key.", code="invalid_api_key")
    key_id, key_name, key_org_id, expires_at, revoked_at, last_used_at = row[:6]
    user = row[6:]  # _user_columns: id, org_id, role, ...
    user_org_id, role = user[1], user[2]
    expires_at, last_used_at = utc(expires_at), utc(last_used_at)
    if revoked_at is not None:
        raise Unauthenticated("This API key has been revoked.", code="api_key_revoked")
    if expires_at is not None and expires_at <= now:
        raise Unauthenticated("This API key has expired.", code="api_key_expired")
    if user_org_id != key_org_id or role is None:
        raise Unauthenticated(
            "The user who created this API key is no longer a member of the organization.",
            code="api_key_owner_removed",
        )
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        _record_key_use(database, key_id, now)
    return _principal_of(user, ip=ip, user_agent=user_agent, api_key_id=key_id, api_key_name=key_name)


def _principal_of(
    user: tuple[Any, ...],
    *,
    ip: str | None,
    user_agent: str | None,
    api_key_id: str | None = None,
    api_key_name: str | None = None,
) -> Principal:
    """A Principal from the ``_user_columns`` of a lookup row."""
    user_id, org_id, role, name, email, org_name, org_slug = user
    return Principal(
        org_id=org_id,
        user_id=user_id,
        role=Role(role),
        name=name,
        email=email,
        org_name=org_name,
        org_slug=org_slug,
        api_key_id=api_key_id,
        api_key_name=api_key_name,
        ip_address=ip,
        user_agent=user_agent,
    )


def _record_key_use(database: Database, key_id: str, now: datetime) -> None:
    # A short transaction of its own, so that a use counts even when the request it authenticates
    # is then refused or fails. The request itself holds no lock: the lookup ran on the Reader.
    # The WHERE clause keeps concurrent processes from moving the timestamp backwards.
    with database.write_engine.begin() as connection:
        connection.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id)
            .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < now))
            .values(last_used_at=now)
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
    row = _user_lookup.one_or_none(database.reader, user_id=claims.user_id, jti=claims.token_id)
    if row is None:
        raise Unauthenticated("This account no longer belongs to an organization.", code="invalid_token")
    *user, generation, revoked = row
    if revoked or generation != claims.generation:
        # Signed out (this token), signed out everywhere, or the password changed since it was issued.
        raise Unauthenticated("This session has been signed out; sign in again.", code="token_revoked")
    if user[1] is None or user[2] is None:  # org_id, role
        raise Unauthenticated("This account no longer belongs to an organization.", code="invalid_token")
    return _principal_of(tuple(user), ip=ip, user_agent=user_agent)


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
