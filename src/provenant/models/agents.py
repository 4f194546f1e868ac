"""Agents, their sessions (conversations), and the turns of each session."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from provenant.models.base import Base, IdColumn, JSONType, new_id, utcnow


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
    # The agent as GET /api/agents shows it (AgentRead's JSON), written by the database's triggers whenever the
    # row is (migration 0012); read only by that list, never set here.
    listed: Mapped[str | None] = mapped_column(Text, deferred=True, deferred_raiseload=True)

    __table_args__ = (
        UniqueConstraint("org_id", "slug", name="uq_agents_org_slug"),
        # Serves the list's whole ORDER BY (updated_at, then id), so no sort step per request.
        Index("ix_agents_org_updated_id", "org_id", "updated_at", "id"),
    )


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
