from pydantic import Field

from provenant.schemas import ApiModel, Timestamp, UtcDateTime, trimmed


class ApiKeyCreate(ApiModel):
    name: trimmed(100)  # type: ignore[valid-type]
    expires_at: UtcDateTime | None = Field(
        default=None,
        description="When the key stops working: an ISO 8601 date-time that must lie in the future (else 422 "
        "naming expiresAt); a time without a zone is taken as UTC. Absent or null: the key does not expire.",
    )


class KeyOwner(ApiModel):
    id: str
    name: str
    email: str


class ApiKeyRead(ApiModel):
    id: str
    name: str
    key_prefix: str
    is_active: bool
    expires_at: Timestamp | None
    last_used_at: Timestamp | None
    created_at: Timestamp
    revoked_at: Timestamp | None
    user: KeyOwner


class ApiKeyCreated(ApiKeyRead):
    key: str
