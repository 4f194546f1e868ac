from typing import Annotated

from pydantic import Field, StringConstraints

from provenant.api_keys.schemas import KeyOwner
from provenant.auth.roles import Access
from provenant.schemas import ApiModel, ReadModel, Timestamp, trimmed

DEFAULT_TTL_SECONDS = 15 * 60
MIN_TTL_SECONDS, MAX_TTL_SECONDS = 60, 3600
MAX_CLAIMS = 20
# GitHub's ID tokens are about 1.5 KB; anything far longer is not one worth parsing.
MAX_ID_TOKEN_LENGTH = 16 * 1024

ClaimName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")]
ClaimValue = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class TrustPolicyCreate(ApiModel):
    name: trimmed(100)  # type: ignore[valid-type]
    issuer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] = Field(
        description="The `iss` of the tokens, exactly: `https://token.actions.githubusercontent.com` for GitHub "
        "Actions, `https://gitlab.com` for GitLab.com. Fetched over HTTPS from public addresses only."
    )
    audience: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="The `aud` the job asks its token for (the SDKs ask for `provenant` unless "
        "PROVENANT_OIDC_AUDIENCE says otherwise)."
    )
    claims: dict[ClaimName, ClaimValue] = Field(
        min_length=1,
        max_length=MAX_CLAIMS,
        description="Claims the token must carry, each equal to the value given, or starting with it when the "
        "value ends in `*` (`repository: acme/*`). At least one; for GitHub and GitLab one of them must name "
        "the repository, project, owner or subject.",
    )
    access: Access = Field(description="What the minted key may do within its creator's current role.")
    ttl_seconds: int = Field(
        default=DEFAULT_TTL_SECONDS,
        strict=True,
        ge=MIN_TTL_SECONDS,
        le=MAX_TTL_SECONDS,
        description="How long a minted key lives, 60 to 3600 seconds (default 900).",
    )


class TrustPolicyRead(ReadModel):
    id: str
    name: str
    issuer: str
    audience: str
    claims: dict[str, str]
    access: Access
    ttl_seconds: int
    created_by: KeyOwner
    created_at: Timestamp


class TokenExchange(ApiModel):
    id_token: str = Field(min_length=1, max_length=MAX_ID_TOKEN_LENGTH)


class ExchangedKey(ReadModel):
    key: str
    expires_at: Timestamp
    access: Access
    policy_id: str
