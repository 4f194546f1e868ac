"""API keys, their daily use, and the trust policies under which CI jobs exchange ID tokens for keys."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from provenant.models.base import Base, IdColumn, new_id, utcnow
from provenant.models.orgs import User


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
