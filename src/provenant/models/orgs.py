"""Organizations, the people in them, and the invitations that bring people in."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false

from provenant.models.base import Base, IdColumn, new_id, utcnow


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
