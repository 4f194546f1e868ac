"""The audit log: who changed what, and when."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from provenant.models.base import Base, IdColumn, new_id, utcnow
from provenant.models.orgs import User


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
