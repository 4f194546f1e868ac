from provenant.schemas import ApiModel, Timestamp, UtcDateTime, trimmed


class ApiKeyCreate(ApiModel):
    name: trimmed(100)  # type: ignore[valid-type]
    expires_at: UtcDateTime | None = None


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
