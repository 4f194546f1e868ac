"""What each operation sends: one function per API operation, shared by the sync and async clients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import quote

from provenant_sdk._http import Call
from provenant_sdk.types import (
    AgentStatus,
    EndStatus,
    InvitableRole,
    KeyAccess,
    Metadata,
    Role,
    SessionStatus,
    TurnInput,
    TurnRole,
)


class Omit(Enum):
    """The default of an update's fields: leave it as it is (``None`` clears those that may be cleared)."""

    OMIT = "omit"

    def __repr__(self) -> str:
        return "OMIT"


OMIT = Omit.OMIT


def _body(**fields: Any) -> dict[str, Any]:
    """The JSON body without the fields left out (``None``)."""
    return {name: value for name, value in fields.items() if value is not None}


def _query(**fields: Any) -> dict[str, str] | None:
    params = {name: _text(value) for name, value in fields.items() if value is not None}
    return params or None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso_utc(value)
    return str(value)


def _id(value: str) -> str:
    return quote(str(value), safe="")


def _list(values: Sequence[str] | None) -> list[str] | None:
    return None if values is None else list(values)


def iso_utc(value: datetime | str) -> str:
    """ISO 8601 in UTC with a ``Z``, from an aware datetime, a naive one (taken as UTC), or an ISO string."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def me() -> Call:
    return Call("GET", "/api/auth/me")


# API keys


def list_api_keys(include_revoked: bool) -> Call:
    return Call("GET", "/api/org/keys", params=_query(includeRevoked=include_revoked or None))


def create_api_key(
    name: str, expires_at: datetime | str | None, access: KeyAccess | None, rate_limit_per_minute: int | None
) -> Call:
    expires = None if expires_at is None else iso_utc(expires_at)
    body = _body(name=name, expiresAt=expires, access=access, rateLimitPerMinute=rate_limit_per_minute)
    return Call("POST", "/api/org/keys", json=body)


def revoke_api_key(key_id: str) -> Call:
    return Call("DELETE", f"/api/org/keys/{_id(key_id)}")


def roll_api_key(key_id: str, grace_seconds: int) -> Call:
    return Call("POST", f"/api/org/keys/{_id(key_id)}/roll", json={"graceSeconds": grace_seconds})


def api_key_usage(key_id: str, days: int | None) -> Call:
    return Call("GET", f"/api/org/keys/{_id(key_id)}/usage", params=_query(days=days))


# Agents


def list_agents(status: AgentStatus | None) -> Call:
    return Call("GET", "/api/agents", params=_query(status=status))


def get_agent(agent_id: str) -> Call:
    return Call("GET", f"/api/agents/{_id(agent_id)}")


def create_agent(
    name: str, slug: str | None, description: str | None, tags: Sequence[str] | None, model_family: str | None
) -> Call:
    body = _body(name=name, slug=slug, description=description, tags=_list(tags), modelFamily=model_family)
    return Call("POST", "/api/agents", json=body)


def get_or_create_agent(
    name: str, description: str | None, tags: Sequence[str] | None, model_family: str | None
) -> Call:
    body = _body(name=name, description=description, tags=_list(tags), modelFamily=model_family)
    # Concurrent or repeated calls find one agent, so a lost answer may be asked for again.
    return Call("POST", "/api/agents/get-or-create", json=body, idempotent=True)


def update_agent(
    agent_id: str,
    name: str | Omit,
    slug: str | Omit,
    description: str | Omit | None,
    tags: Sequence[str] | Omit,
    model_family: str | Omit | None,
) -> Call:
    fields = {
        "name": name,
        "slug": slug,
        "description": description,
        "tags": tags if isinstance(tags, Omit) else list(tags),
        "modelFamily": model_family,
    }
    body = {field: value for field, value in fields.items() if value is not OMIT}
    return Call("PATCH", f"/api/agents/{_id(agent_id)}", json=body)


def archive_agent(agent_id: str) -> Call:
    return Call("DELETE", f"/api/agents/{_id(agent_id)}")


# Sessions and turns


def list_sessions(agent_id: str | None, status: SessionStatus | None, q: str | None) -> Call:
    return Call("GET", "/api/sessions", params=_query(agentId=agent_id, status=status, q=q))


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
        tags=_list(tags),
    )
    return Call("POST", "/api/sessions", json=body)


def get_session(session_id: str) -> Call:
    return Call("GET", f"/api/sessions/{_id(session_id)}")


def update_session(session_id: str, status: SessionStatus | None, ended_at: datetime | str | None) -> Call:
    ended = None if ended_at is None else iso_utc(ended_at)
    return Call("PATCH", f"/api/sessions/{_id(session_id)}", json=_body(status=status, endedAt=ended))


def delete_session(session_id: str) -> Call:
    return Call("DELETE", f"/api/sessions/{_id(session_id)}")


def turn(
    role: TurnRole,
    content: Any,
    tool_calls: Any,
    latency_ms: int | None,
    input_tokens: int | None,
    output_tokens: int | None,
    metadata: Metadata | None,
) -> dict[str, Any]:
    """One turn as the server reads it."""
    return _body(
        role=role,
        content=content,
        toolCalls=tool_calls,
        latencyMs=latency_ms,
        inputTokens=input_tokens,
        outputTokens=output_tokens,
        metadata=metadata,
    )


def add_turn(session_id: str, body: dict[str, Any]) -> Call:
    return Call("POST", f"/api/sessions/{_id(session_id)}/turns", json=body)


def add_turns(session_id: str, turns: Sequence[TurnInput | Mapping[str, Any]]) -> Call:
    batch = [dict(item) for item in turns]
    # The server stores a clientId once per session, so a batch where every turn has one may be resent.
    resendable = bool(batch) and all(item.get("clientId") for item in batch)
    return Call("POST", f"/api/sessions/{_id(session_id)}/turns", json=batch, idempotent=resendable)


def end_session(
    session_id: str, status: EndStatus, total_tokens: int | None, total_latency_ms: int | None
) -> Call:
    body = _body(status=status, totalTokens=total_tokens, totalLatencyMs=total_latency_ms)
    return Call("POST", f"/api/sessions/{_id(session_id)}/end", json=body)


# Team


def list_members() -> Call:
    return Call("GET", "/api/org/members")


def change_member_role(user_id: str, role: Role) -> Call:
    return Call("PATCH", f"/api/org/members/{_id(user_id)}/role", json={"role": role})


def remove_member(user_id: str) -> Call:
    return Call("DELETE", f"/api/org/members/{_id(user_id)}")


def list_invitations() -> Call:
    return Call("GET", "/api/org/invitations")


def create_invitation(email: str, role: InvitableRole) -> Call:
    return Call("POST", "/api/org/invitations", json={"email": email, "role": role})


def cancel_invitation(invitation_id: str) -> Call:
    return Call("DELETE", f"/api/org/invitations/{_id(invitation_id)}")


# Audit log


def audit_filters(
    action: str | None,
    user_id: str | None,
    resource_type: str | None,
    resource_id: str | None,
    since: datetime | str | None,
    until: datetime | str | None,
) -> dict[str, Any]:
    return {
        "action": action,
        "userId": user_id,
        "resourceType": resource_type,
        "resourceId": resource_id,
        "from": None if since is None else iso_utc(since),
        "to": None if until is None else iso_utc(until),
    }


def list_audit_entries(filters: dict[str, Any]) -> Call:
    return Call("GET", "/api/audit", params=_query(**filters))


def export_audit_log(filters: dict[str, Any]) -> Call:
    return Call("GET", "/api/audit/export", params=_query(**filters))
