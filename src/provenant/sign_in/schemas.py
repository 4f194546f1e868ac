from typing import Annotated, Literal

from pydantic import Field, StrictBool, StringConstraints

from provenant.schemas import ApiModel, ReadModel, Timestamp

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class SsoConfigUpdate(ApiModel):
    issuer: Annotated[_Text, Field(max_length=500)]
    client_id: Annotated[_Text, Field(max_length=255)]
    # Left out: the stored secret is kept (an OWNER changing the domains need not paste it again).
    client_secret: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    domains: Annotated[list[Annotated[str, Field(max_length=253)]], Field(min_length=1, max_length=50)]
    default_role: Literal["MEMBER", "VIEWER"] = "MEMBER"
    # Strict: "false" or 0 would otherwise read as a boolean, and this one locks passwords out.
    enforce: StrictBool = False


class SsoConfigRead(ReadModel):
    issuer: str
    client_id: str
    client_secret_set: bool
    domains: list[str]
    default_role: str
    enforce: bool
    # The address to register at the provider as the client's redirect URI.
    redirect_uri: str
    created_at: Timestamp
    updated_at: Timestamp


class DiscoveryCheck(ApiModel):
    issuer: Annotated[_Text, Field(max_length=500)]


class DiscoveryRead(ReadModel):
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth_method: str


class CodeExchange(ApiModel):
    code: Annotated[str, Field(min_length=1, max_length=256)]
