from datetime import datetime

from pydantic import field_validator

from provenant.schemas import ApiModel, Timestamp, as_utc, trimmed


class ApiKeyCreate(ApiModel):
    name: trimmed(100)  # type: ignore[valid-type]
    expires_at: datetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value)


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
