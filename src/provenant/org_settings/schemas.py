from pydantic import StrictBool

from provenant.schemas import ApiModel, ReadModel, Timestamp


class OrgSettingsRead(ReadModel):
    id: str
    name: str
    slug: str
    require_two_factor: bool
    created_at: Timestamp


class OrgSettingsUpdate(ApiModel):
    # Strict: "false" or 0 would otherwise read as a boolean, and this one locks people out.
    require_two_factor: StrictBool | None = None
