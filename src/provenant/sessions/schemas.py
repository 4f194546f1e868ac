import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from provenant.agents.schemas import Tags
from provenant.schemas import ApiModel, ReadModel, Timestamp, UtcDateTime

SessionStatus = Literal["ACTIVE", "COMPLETED", "FAILED"]
EndStatus = Literal["COMPLETED", "FAILED"]
TurnRole = Literal["USER", "ASSISTANT", "SYSTEM", "TOOL"]
# The columns are 32-bit integers on PostgreSQL.
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]
JsonObject = dict[str, Any]
Content = str | dict[str, Any] | list[Any]
# On the wire `metadata`; on the models `metadata_` (SQLAlchemy reserves `metadata`).
MetadataField = Field(validation_alias=AliasChoices("metadata_", "metadata"))


def _storable(value: Any) -> Any:
    """Refuse what Python's JSON reader allows but the databases and the JSON we answer with do not:
    NaN and Infinity. (A NUL character never gets this far: provenant.request_guard refuses it.)"""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError("must not contain NaN or Infinity")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return value


def text(max_length: int) -> Any:
    return Annotated[str, Field(max_length=max_length)]


SearchText = Annotated[str, Field(max_length=200)]
StorableJson = Annotated[Any, AfterValidator(_storable)]
StorableObject = Annotated[JsonObject, AfterValidator(_storable)]
StorableContent = Annotated[Content, AfterValidator(_storable)]


class SessionCreate(ApiModel):
    agent_id: text(64)  # type: ignore[valid-type]
    agent_version_id: text(64) | None = None  # type: ignore[valid-type]
    environment_id: text(64) | None = None  # type: ignore[valid-type]
    external_id: text(256) | None = None  # type: ignore[valid-type]
    user_id: text(256) | None = None  # type: ignore[valid-type]
    metadata: StorableObject | None = None
    tags: Tags = []


class SessionEnd(ApiModel):
    status: EndStatus = "COMPLETED"
    total_tokens: Count | None = None
    total_latency_ms: Count | None = None


class SessionUpdate(ApiModel):
    """What older clients send to end a session: a final status, an end time, or both."""

    status: SessionStatus | None = None
    ended_at: UtcDateTime | None = None


class TurnCreate(ApiModel):
    role: TurnRole
    content: StorableContent
    tool_calls: StorableJson = None
    latency_ms: Count | None = None
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    metadata: StorableObject | None = None
    # The sender's idempotency id: a turn whose clientId its session already holds is not stored again.
    client_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None


MAX_BATCH = 500
TurnBatch = Annotated[list[TurnCreate], Field(min_length=1, max_length=MAX_BATCH)]


def _body_shape(value: Any) -> str:
    return "batch" if isinstance(value, list) else "one"


def _items_named_by_index(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Errors name a batch's item as the contract does, ``[3].role``: without this, pydantic's location
    would read ``batch.3.role`` (the union's tag, then the bare index)."""
    try:
        return handler(value)
    except ValidationError as invalid:
        renamed = [
            InitErrorDetails(
                type=PydanticCustomError(error["type"], "{message}", {"message": error["msg"]}),
                loc=_location(error["loc"]),
                input=error["input"],
            )
            for error in invalid.errors(include_url=False)
        ]
        raise ValidationError.from_exception_data(invalid.title, renamed) from None


def _location(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    shape, *inner = loc
    if shape == "batch" and inner and isinstance(inner[0], int):
        inner[0] = f"[{inner[0]}]"  # joined to what follows with "." when rendered: "[3].role"
    return tuple(inner)


# One turn, or a batch of 1 to 500 stored all or nothing; told apart by the body's own shape.
TurnsIn = Annotated[
    Annotated[TurnCreate, Tag("one")] | Annotated[TurnBatch, Tag("batch")],
    Discriminator(_body_shape),
    WrapValidator(_items_named_by_index),
]


class SessionRead(ReadModel):
    id: str
    agent_id: str
    agent_version_id: str | None
    environment_id: str | None
    external_id: str | None
    user_id: str | None
    metadata: JsonObject | None = MetadataField
    tags: list[str]
    status: SessionStatus
    started_at: Timestamp
    ended_at: Timestamp | None
    total_tokens: int | None
    total_latency_ms: int | None
    created_at: Timestamp
    updated_at: Timestamp


class TurnRead(ReadModel):
    id: str
    session_id: str
    role: TurnRole
    content: Content
    tool_calls: Any
    latency_ms: int | None
    input_tokens: int | None
    output_tokens: int | None
    metadata: JsonObject | None = MetadataField
    client_id: str | None
    created_at: Timestamp


class SessionWithTurns(SessionRead):
    turns: list[TurnRead]
