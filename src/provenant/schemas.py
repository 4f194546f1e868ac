"""What every wire schema shares: camelCase on the wire, snake_case in Python, UTC ``Z`` timestamps."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer, StringConstraints
from pydantic.alias_generators import to_camel


def _format_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def as_utc(value: datetime | None) -> datetime | None:
    """A timestamp given without a zone is taken as UTC, the API's only zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


Timestamp = Annotated[datetime, PlainSerializer(_format_timestamp, return_type=str)]

# `name`-like fields: surrounding whitespace is not part of a name.
def trimmed(max_length: int) -> type[str]:
    return Annotated[  # type: ignore[return-value]
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)
    ]


SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, extra="ignore"
    )


class Success(ApiModel):
    success: bool = True
