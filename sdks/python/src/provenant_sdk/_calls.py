"""What each client method sends: one function per API operation, shared by the sync and async clients."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from provenant_sdk._base import Call
from provenant_sdk.types import AgentStatus, EndStatus, Metadata, TurnRole


def _body(**fields: Any) -> dict[str, Any]:
    """The JSON body without the fields left out (``None``)."""
    return {name: value for name, value in fields.items() if value is not None}


def _id(value: str) -> str:
    return quote(str(value), safe="")


def iso_utc(value: datetime | str) -> str:
    """ISO 8601 in UTC with a ``Z``, from an aware datetime, a naive one (taken as UTC), or an ISO string."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def me() -> Call:
    return Call("GET", "/api/auth/me")


def list_api_keys(include_revoked: bool) -> Call:
    return Call("GET", "/api/org/keys", params={"includeRevoked": "true"} if include_revoked else None)


def create_api_key(name: str, expires_at: datetime | str | None) -> Call:
    expires = None if expires_at is None else iso_utc(expires_at)
    return Call("POST", "/api/org/keys", json=_body(name=name, expiresAt=expires))


def revoke_api_key(key_id: str) -> Call:
    return Call("DELETE", f"/api/org/keys/{_id(key_id)}")


def list_agents(status: AgentStatus | None) -> Call:
    return Call("GET", "/api/agents", params=_body(status=status) or None)


def get_agent(agent_id: str) -> Call:
    return Call("GET", f"/api/agents/{_id(agent_id)}")


def create_agent(
    name: str, slug: str, description: str | None, tags: Sequence[str] | None, model_family: str | None
) -> Call:
    tag_list = None if tags is None else list(tags)
    body = _body(name=name, slug=slug, description=description, tags=tag_list, modelFamily=model_family)
    return Call("POST", "/api/agents", json=body)


def get_or_create_agent(
    name: str, description: str | None, tags: Sequence[str] | None, model_family: str | None
) -> Call:
    tag_list = None if tags is None else list(tags)
    body = _body(name=name, description=description, tags=tag_list, modelFamily=model_family)
    return Call("POST", "/api/agents/get-or-create", json=body)


def create_session(
    agent_id: str,
    external_id: str | None,
    user_id: str | None,
    metadata: Metadata | None,
    tags: Sequence[str] | None,
    agent_version_id: str | None,
    environment_id: str | None,
) -> Call:
    body = _body(
        agentId=agent_id,
        agentVersionId=agent_version_id,
        environmentId=environment_id,
        externalId=external_id,
        userId=user_id,
        metadata=metadata,
        tags=None if tags is None else list(tags),
    )
    return Call("POST", "/api/sessions", json=body)


def get_session(session_id: str) -> Call:
    return Call("GET", f"/api/sessions/{_id(session_id)}")


def add_turn(
    session_id: str,
    role: TurnRole,
    content: Any,
    tool_calls: Any,
    latency_ms: int | None,
    input_tokens: int | None,
    output_tokens: int | None,
    metadata: Metadata | None,
) -> Call:
    body = _body(
        role=role,
        content=content,
        toolCalls=tool_calls,
        latencyMs=latency_ms,
        inputTokens=input_tokens,
        outputTokens=output_tokens,
        metadata=metadata,
    )
    return Call("POST", f"/api/sessions/{_id(session_id)}/turns", json=body)


def end_session(
    session_id: str, status: EndStatus, total_tokens: int | None, total_latency_ms: int | None
) -> Call:
    body = _body(status=status, totalTokens=total_tokens, totalLatencyMs=total_latency_ms)
    return Call("POST", f"/api/sessions/{_id(session_id)}/end", json=body)
