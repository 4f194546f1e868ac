"""What signing in keeps: counters of failed attempts, recovery codes, signed-out JWTs, reset tokens; and
single sign-on's: each org's provider and email domains, one-time sign-in codes, linked external identities."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from provenant.models.base import Base, IdColumn, new_id, utcnow


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
