from typing import Any

from provenant.schemas import ReadModel, Timestamp


class AuditUser(ReadModel):
    id: str
    name: str | None
    email: str | None


class AuditEntryRead(ReadModel):
    id: str
    action: str
    resource_type: str
    resource_id: str | None
    user: AuditUser | None
    api_key_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip_address: str | None
    user_agent: str | None
    created_at: Timestamp
