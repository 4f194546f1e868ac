from datetime import date
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer

from provenant.auth.roles import Access
from provenant.schemas import ApiModel, ReadModel, Timestamp, UtcDateTime, trimmed

# A week: long enough to redeploy everything that holds the old key, short enough that a key rolled
# because it leaked does not stay useful for long.
MAX_GRACE_SECONDS = 7 * 24 * 3600
MAX_USAGE_DAYS = 90
# A report is one scanner's findings in one file or push, not a bulk oracle.
MAX_REPORTED_KEYS = 100
# pk_live_ + 32 hex is 40 characters; anything much longer is not a key and is not worth reading.
MAX_REPORTED_KEY_LENGTH = 200
# A million a minute is more than one process serves: higher would be no limit at all.
MAX_RATE_LIMIT_PER_MINUTE = 1_000_000


class ApiKeyCreate(ApiModel):
    name: trimmed(100)  # type: ignore[valid-type]
    expires_at: UtcDateTime | None = Field(
        default=None,
        description="When the key stops working: an ISO 8601 date-time that must lie in the future (else 422 "
        "naming expiresAt); a time without a zone is taken as UTC. Absent or null: the key does not expire.",
    )
    access: Access = Field(
        default=Access.FULL,
        description="`full`: acts with its creator's current role. `read`: reads only. `ingest`: what an "
        "instrumented agent needs (get-or-create agents, create and end sessions, add turns, read the sessions "
        "it created). Never more than the creator's current role allows.",
    )
    rate_limit_per_minute: int | None = Field(
        default=None,
        strict=True,  # a number of requests, not "60", 1.5 or true
        ge=1,
        le=MAX_RATE_LIMIT_PER_MINUTE,
        description="Requests a minute the key may make, 1 to 1,000,000; past it, 429 `rate_limited` with "
        "`Retry-After` and `RateLimit-*` until the minute ends. Absent or null: no limit.",
    )


class ApiKeyRoll(ApiModel):
    grace_seconds: int = Field(
        default=0,
        strict=True,  # a number of seconds, not "3600", 1.5 or true
        ge=0,
        le=MAX_GRACE_SECONDS,
        description="How long the old key keeps working, 0 to 604800 seconds (7 days). 0: it stops at once.",
    )


class KeyOwner(ReadModel):
    id: str
    name: str
    email: str


class ApiKeyRead(ReadModel):
    id: str
    name: str
    key_prefix: str
    access: Access
    is_active: bool
    expires_at: Timestamp | None
    last_used_at: Timestamp | None
    created_at: Timestamp
    revoked_at: Timestamp | None
    revoked_reason: Literal["revoked", "leaked"] | None
    rolled_to_id: str | None
    rate_limit_per_minute: int | None
    # Minted for a CI job by POST /api/auth/token-exchange under this trust policy.
    ephemeral: bool
    policy_id: str | None
    user: KeyOwner


class ApiKeyCreated(ApiKeyRead):
    key: str


IsoDate = Annotated[date, PlainSerializer(date.isoformat, return_type=str)]


class DailyUsage(ReadModel):
    date: IsoDate
    requests: int


ReportedKey = Annotated[str, Field(max_length=MAX_REPORTED_KEY_LENGTH)]


class LeakReport(ApiModel):
    keys: list[ReportedKey] = Field(min_length=1, max_length=MAX_REPORTED_KEYS)


class LeakReceived(ReadModel):
    received: int
