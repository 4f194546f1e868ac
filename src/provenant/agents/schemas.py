from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from provenant.schemas import ApiModel, ReadModel, Slug, Timestamp, omittable, trimmed

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Tags = Annotated[list[Tag], Field(max_length=50)]
Description = Annotated[str, Field(max_length=5000)]
ModelFamily = Annotated[str, Field(max_length=100)]
AgentStatus = Literal["ACTIVE", "ARCHIVED"]


class AgentCreate(ApiModel):
    name: trimmed(200)  # type: ignore[valid-type]
    # Left out or null (the dashboard's New Agent), derived from the name as get-or-create derives it.
    slug: Slug | None = None
    description: Description | None = None
    tags: Tags = []
    model_family: ModelFamily | None = None


class AgentGetOrCreate(ApiModel):
    name: trimmed(200)  # type: ignore[valid-type]
    description: Description | None = None
    tags: Tags = []
    model_family: ModelFamily | None = None


class AgentUpdate(ApiModel):
    # None means "not given": name, slug and tags may be left out, never set to null (the document says so).
    name: trimmed(200) | None = omittable()  # type: ignore[valid-type]
    slug: Slug | None = omittable()
    description: Description | None = None
    tags: Tags | None = omittable()
    model_family: ModelFamily | None = None

    @field_validator("name", "slug", "tags")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Only description and modelFamily can be cleared; a validator runs only on given fields.
        if value is None:
            raise ValueError("may not be null")
        return value


class AgentRead(ReadModel):
    id: str
    org_id: str
    name: str
    slug: str
    description: str | None
    tags: list[str]
    model_family: str | None
    status: AgentStatus
    created_by_id: str
    created_at: Timestamp
    updated_at: Timestamp
