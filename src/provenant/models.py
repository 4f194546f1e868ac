"""Every table. Timestamps are stored as UTC and always come back timezone-aware."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
IdColumn = String(36)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType, list[Any]: JSONType}


class Org(Base):
    __tablename__ = "orgs"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    # Bumped by membership changes so that they serialize on one row (see team.membership_lock).
    membership_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Members signed in with a JWT must have two-factor sign-in on (see auth.deps); API keys are not affected.
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    # NULL org and role: the person was removed from their org and belongs to none.
    org_id: Mapped[str | None] = mapped_column(ForeignKey("orgs.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    # Lower-cased email: uniqueness is case-insensitive on every backend.
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Every JWT carries the generation it was issued in (claim ``gen``); logout-all and a password
    # change move it on, which ends every older token of the user at once (provenant.auth.authenticate).
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Two-factor sign-in (provenant.two_factor): the TOTP seed, encrypted (auth.encryption); on once a code
    # confirmed it (``totp_enabled_at``); the time step of the last code accepted, so that none is used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Came into their org through single sign-on (provenant.sign_in), as the Team page shows.
    joined_through_sso: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def two_factor(self) -> bool:
        return self.totp_enabled_at is not None


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(8))
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "full" (the creator's role), "read" or "ingest": see auth.roles.
    access: Mapped[str] = mapped_column(String(8), default="full", server_default="full")
    # The key that replaced this one when it was rolled.
    rolled_to_id: Mapped[str | None] = mapped_column(String(36))
    # "revoked" (by a person) or "leaked" (reported exposed); None while not revoked.
    revoked_reason: Mapped[str | None] = mapped_column(String(16))
    # Requests a minute this key may make (auth.rate_limits); None: no limit.
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    # When the sweep decided the key's expiry reminder (emailed, or not needed: see api_keys.reminders).
    expiry_reminded_at: Mapped[datetime | None]
    # The trust policy a CI job's ID token was exchanged under (an ephemeral key); None for a person's key.
    policy_id: Mapped[str | None] = mapped_column(ForeignKey("trust_policies.id"), index=True)
    # The creator, for showing a key; loaded only where a query asks (``raise`` catches an N+1).
    user: Mapped["User"] = relationship(viewonly=True, lazy="raise")

    @property
    def is_active(self) -> bool:
        """Neither revoked nor past its expiry, now."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())

    @property
    def ephemeral(self) -> bool:
        """Minted for a CI job by the token exchange, for minutes."""
        return self.policy_id is not None

    __table_args__ = (Index("ix_api_keys_org_created", "org_id", "created_at"),)


class ApiKeyUsage(Base):
    """Requests one key made on one UTC day, written from the coalesced bookkeeping of key use."""

    __tablename__ = "api_key_usage"

    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"))
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    model_family: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("org_id", "slug", name="uq_agents_org_slug"),
        # Serves the list's whole ORDER BY (updated_at, then id), so no sort step per request.
        Index("ix_agents_org_updated_id", "org_id", "updated_at", "id"),
    )


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    # NULL for events outside any org, such as a failed login with an unknown email.
    org_id: Mapped[str | None] = mapped_column(ForeignKey("orgs.id"))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    api_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str | None] = mapped_column(String(36))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who acted, for reading the log; loaded only where a query asks (``raise`` catches an N+1).
    user: Mapped["User | None"] = relationship(viewonly=True, lazy="raise")

    __table_args__ = (
        Index("ix_audit_org_created", "org_id", "created_at"),
        Index("ix_audit_org_action_created", "org_id", "action", "created_at"),
        Index("ix_audit_org_resource", "org_id", "resource_type", "resource_id"),
    )


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"))
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Loaded only where a query asks (``raise`` catches an N+1).
    invited_by: Mapped["User"] = relationship(viewonly=True, lazy="raise")

    __table_args__ = (Index("ix_invitations_org_email", "org_id", "email_key"),)


class AgentSession(Base):
    """A conversation of an agent (``/api/sessions``); not to be confused with a database session."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"))
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    agent_version_id: Mapped[str | None] = mapped_column(String(64))
    environment_id: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(256))
    user_id: Mapped[str | None] = mapped_column(String(256))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    tags: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    total_tokens: Mapped[int | None]
    total_latency_ms: Mapped[int | None]
    turn_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_by_api_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_sessions_org_created", "org_id", "created_at"),
        Index("ix_sessions_org_agent_created", "org_id", "agent_id", "created_at"),
        Index("ix_sessions_org_status_created", "org_id", "status", "created_at"),
        # An ingest key lists only the sessions it created.
        Index("ix_sessions_org_key_created", "org_id", "created_by_api_key_id", "created_at"),
    )


class Turn(Base):
    __tablename__ = "turns"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    # Order of acceptance within the session; timestamps can tie or go backwards.
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[Any] = mapped_column(JSONType)
    # Plain text of the content, for `q` search.
    content_text: Mapped[str] = mapped_column(Text, default="")
    tool_calls: Mapped[Any | None] = mapped_column(JSONType)
    latency_ms: Mapped[int | None]
    input_tokens: Mapped[int | None]
    output_tokens: Mapped[int | None]
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The sender's idempotency id: a resent turn with a clientId the session holds is not stored twice.
    client_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("session_id", "seq", name="uq_turns_session_seq"),
        Index("uq_turns_session_client_id", "session_id", "client_id", unique=True),
    )


class AuthAttempt(Base):
    """A counter of failed authentications for one subject (see auth.attempts), over a fixed window."""

    __tablename__ = "auth_attempts"

    # "<kind>:<sha256 of the subject>": the email or address itself is not kept here.
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(index=True)  # stale counters are swept by age
    failures: Mapped[int] = mapped_column(Integer)


class RecoveryCode(Base):
    """One of a person's ten recovery codes, as a keyed hash (auth.encryption.digest); each works once."""

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_recovery_codes_user_hash", "user_id", "code_hash"),)


class RevokedToken(Base):
    """A signed-out JWT (its ``jti``), refused until its own expiry; rows past it are purged."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PasswordReset(Base):
    """A one-time password reset token, stored as its SHA-256 alone (see accounts.password_reset)."""

    __tablename__ = "password_resets"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Who issued it for the user (an OWNER or ADMIN); None when the user asked, or the operator's command did.
    issued_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime]
    # Set when it is used, or ended by a newer token or a password change: it never works again.
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxEmail(Base):
    """An email decided in some transaction, waiting for the sender (provenant.email.sender).

    ``payload`` (subject and bodies) is encrypted: a reset or invitation link is a credential. It is
    emptied once the email is sent or given up on; the row is kept a while as a record, then deleted.
    """

    __tablename__ = "email_outbox"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    template: Mapped[str] = mapped_column(String(64))
    to_address: Mapped[str] = mapped_column(String(320))
    payload: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a sender may next claim it; NULL once it is sent or given up on (so the index holds only mail due).
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class TrustPolicy(Base):
    """Whose OpenID Connect ID tokens (a CI provider's jobs) may be exchanged for a short-lived key of the
    org, acting as ``created_by`` with ``access``. Deleted policies stay (``deleted_at``), as their keys name them."""

    __tablename__ = "trust_policies"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"))
    name: Mapped[str] = mapped_column(String(100))
    issuer: Mapped[str] = mapped_column(String(500))
    audience: Mapped[str] = mapped_column(String(200))
    # Claim name → the value it must equal, or a prefix when it ends in "*".
    claims: Mapped[dict[str, Any]]
    access: Mapped[str] = mapped_column(String(8))
    ttl_seconds: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    # Loaded only where a query asks (``raise`` catches an N+1).
    created_by: Mapped["User"] = relationship(viewonly=True, lazy="raise")

    __table_args__ = (
        Index("ix_trust_policies_org_created", "org_id", "created_at"),
        # The exchange looks policies up by the issuer the token names, across orgs.
        Index("ix_trust_policies_issuer", "issuer"),
    )


class UsedIdToken(Base):
    """An ID token exchanged once (its issuer and ``jti``, or the token itself, hashed): refused again
    until its own expiry; rows past it are swept by later exchanges."""

    __tablename__ = "used_id_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


# --- single sign-on and Sign in with GitHub (provenant.sign_in) ---------------------------------------


class SsoConfig(Base):
    """An organization's OpenID Connect provider. The client secret is encrypted (auth.encryption, purpose
    ``sso-client-secret:<org id>``); the endpoints are those its discovery document named when it was saved."""

    __tablename__ = "sso_configs"

    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret: Mapped[str] = mapped_column(Text)
    authorization_endpoint: Mapped[str] = mapped_column(String(1000))
    token_endpoint: Mapped[str] = mapped_column(String(1000))
    # "client_secret_basic" or "client_secret_post": how the token endpoint takes the secret.
    token_auth_method: Mapped[str] = mapped_column(String(32))
    default_role: Mapped[str] = mapped_column(String(16))
    enforce: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SsoDomain(Base):
    """An email domain (lower-case, IDNA A-label form) and the one org that signs it in."""

    __tablename__ = "sso_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"), index=True)


class SignInCode(Base):
    """The one-time code a sign-in through a provider ends with (``/sso-complete?code=``), as its SHA-256:
    exchanged once, within a minute, for a session."""

    __tablename__ = "sign_in_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"))
    # "sso" or "github", for the audit entry of the exchange.
    method: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class ExternalIdentity(Base):
    """An account at a provider (``github``, or an OpenID Connect issuer) linked to a user, by the provider's
    stable id for it (GitHub's numeric user id, the ID token's ``sub``)."""

    __tablename__ = "external_identities"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_external_identities_provider_subject"),)
