"""What every wire schema shares: camelCase on the wire, snake_case in Python, UTC ``Z`` timestamps."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasGenerator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

from provenant.utc import in_utc


def format_timestamp(value: datetime) -> str:
    """How the API writes an instant: UTC, milliseconds, ``Z``."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]

_ISO_8601_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_8601_text(value: Any) -> Any:
    # pydantic would also read 0.5 or "0.5" as seconds since 1970: a number is not a date here.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_8601_DATE.match(value):
        raise ValueError("must be an ISO 8601 date-time such as 2026-11-26T05:02:34Z")
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return in_utc(value)
    except OverflowError:
        raise ValueError("must lie between the years 1 and 9999 in UTC") from None


# An instant given by a client, in UTC.
UtcDateTime = Annotated[datetime, BeforeValidator(_iso_8601_text), AfterValidator(_in_utc)]


def _without_null(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
    branches = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches


def omittable() -> Any:
    """The default of a PATCH field ``X | None`` that may be left out but not set to null (a validator refuses
    null): the document shows it as ``X``, without ``null`` or a ``null`` default. The type keeps ``| None``
    for validation, whose errors then name the field alone."""
    return Field(None, json_schema_extra=_without_null)


# `name`-like fields: surrounding whitespace is not part of a name.
def trimmed(max_length: int) -> type[str]:
    return Annotated[  # type: ignore[return-value]
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)
    ]


SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]


class ApiModel(BaseModel):
    """What clients send: camelCase on the wire (snake_case names accepted too)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True, extra="ignore")


class ReadModel(BaseModel):
    """What the API answers with: read from the services' objects by attribute name, written in camelCase.

    The camelCase names are for writing only. Read from an ORM row, a field with a validation alias is
    looked up by its alias first, an AttributeError raised and caught per field per row: that was 70 %
    of the cost of a batch's answer (100 turns: 1.4 ms of 2 ms, benchmarks/ingest.py)."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(serialization_alias=to_camel), from_attributes=True, extra="ignore"
    )


class Success(ReadModel):
    success: bool = True
