"""The shapes the server sends, as TypedDicts: plain dicts at run time, camelCase keys as on the wire.

Timestamps are ISO 8601 strings in UTC (``"2026-11-26T05:02:34.123Z"``); ids are UUID strings.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypeAlias, TypedDict

AgentStatus: TypeAlias = Literal["ACTIVE", "ARCHIVED"]
SessionStatus: TypeAlias = Literal["ACTIVE", "COMPLETED", "FAILED"]
EndStatus: TypeAlias = Literal["COMPLETED", "FAILED"]
TurnRole: TypeAlias = Literal["USER", "ASSISTANT", "SYSTEM", "TOOL"]
Role: TypeAlias = Literal["OWNER", "ADMIN", "MEMBER", "VIEWER"]
InvitableRole: TypeAlias = Literal["ADMIN", "MEMBER", "VIEWER"]
KeyAccess: TypeAlias = Literal["full", "read", "ingest"]
Metadata: TypeAlias = dict[str, Any]


class Org(TypedDict):
    id: str
    name: str
    slug: str


class UserRef(TypedDict):
    id: str
    name: str
    email: str


class ApiKeyRef(TypedDict):
    id: str
    name: str


class Permissions(TypedDict):
    """What the caller may do now (its role and its key's access together): a client offers only that."""

    actions: list[str]
    """Such as ``"read"``, ``"ingest"``, ``"write"``, ``"invite"``, ``"manage_org_settings"``."""
    grantableRoles: list[InvitableRole]
    """The roles the caller may invite someone as."""
    roleChanges: dict[Role, list[Role]]
    """A member's current role → the roles the caller may give them."""
    removableRoles: list[Role]
    passwordResetRoles: list[Role]
    """The roles of the members the caller may issue a reset link for (in person only: empty for a key)."""


class Me(TypedDict):
    id: str
    name: str
    email: str
    role: Role
    orgId: str
    org: Org
    authMethod: Literal["jwt", "api_key"]
    apiKey: NotRequired[ApiKeyRef]
    # Whether the person (for a key: its creator) has two-factor sign-in on, and whether the org requires it.
    # Servers older than two-factor sign-in leave them out.
    twoFactor: NotRequired[bool]
    twoFactorRequired: NotRequired[bool]
    # Servers before it leave it out.
    permissions: NotRequired[Permissions]


class ApiKey(TypedDict):
    id: str
    name: str
    keyPrefix: str
    isActive: bool
    expiresAt: str | None
    lastUsedAt: str | None
    createdAt: str
    revokedAt: str | None
    user: UserRef
    access: KeyAccess
    rolledToId: str | None
    """The key this one was rolled to, if it was."""
    revokedReason: Literal["revoked", "leaked"] | None
    rateLimitPerMinute: int | None
    """Requests a minute the key may make (past it: 429 ``rate_limited``); None: no limit."""


class CreatedApiKey(ApiKey):
    key: str
    """The full ``pk_live_...`` key; no other response ever carries it."""


class KeyUsageDay(TypedDict):
    date: str
    """``YYYY-MM-DD`` (UTC)."""
    requests: int


class Agent(TypedDict):
    id: str
    orgId: str
    name: str
    slug: str
    description: str | None
    tags: list[str]
    modelFamily: str | None
    status: AgentStatus
    createdById: str | None
    createdAt: str
    updatedAt: str


class Session(TypedDict):
    id: str
    agentId: str
    agentVersionId: str | None
    environmentId: str | None
    externalId: str | None
    userId: str | None
    metadata: Metadata | None
    tags: list[str]
    status: SessionStatus
    startedAt: str
    endedAt: str | None
    totalTokens: int | None
    totalLatencyMs: int | None
    createdAt: str
    updatedAt: str


class Turn(TypedDict):
    id: str
    sessionId: str
    role: TurnRole
    content: Any
    toolCalls: Any
    latencyMs: int | None
    inputTokens: int | None
    outputTokens: int | None
    metadata: Metadata | None
    clientId: str | None
    createdAt: str


class TurnInput(TypedDict, total=False):
    """One turn of `add_turns`, as on the wire; ``role`` and ``content`` are required."""

    role: TurnRole
    content: str | dict[str, Any] | list[Any]
    toolCalls: Any
    latencyMs: int
    inputTokens: int
    outputTokens: int
    metadata: Metadata
    clientId: str
    """1 to 64 characters, unique in the session: a turn sent again with the same one is stored once."""


class SessionWithTurns(Session):
    turns: list[Turn]


class Success(TypedDict):
    success: bool


class Member(TypedDict):
    id: str
    name: str
    email: str
    role: Role
    createdAt: str


class Inviter(TypedDict):
    name: str
    email: str


class Invitation(TypedDict):
    id: str
    email: str
    role: Role
    expiresAt: str
    createdAt: str
    invitedBy: Inviter


class CreatedInvitation(TypedDict):
    id: str
    email: str
    role: Role
    expiresAt: str
    inviteLink: str
    """The only response that carries the link; it works once, for 7 days."""


class AuditUser(TypedDict):
    id: str
    name: str | None
    email: str | None


class AuditEntry(TypedDict):
    id: str
    action: str
    resourceType: str
    resourceId: str | None
    user: AuditUser | None
    apiKeyId: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ipAddress: str | None
    userAgent: str | None
    createdAt: str
