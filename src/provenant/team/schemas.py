from typing import Annotated, Literal

from pydantic import EmailStr, Field

from provenant.auth.roles import Role
from provenant.schemas import ApiModel, ReadModel, Timestamp, trimmed

# Nobody is invited as OWNER: invite as ADMIN, then an OWNER promotes.
InvitableRole = Literal["ADMIN", "MEMBER", "VIEWER"]


class MemberRead(ReadModel):
    id: str
    name: str
    email: str
    role: Role
    created_at: Timestamp
    # Whether the member has two-factor sign-in on.
    two_factor: bool
    # Whether the member came into the org through single sign-on.
    sso: bool = Field(validation_alias="joined_through_sso")


class RoleChange(ApiModel):
    role: Role


class InvitationCreate(ApiModel):
    email: EmailStr
    role: InvitableRole = "MEMBER"


class Inviter(ReadModel):
    name: str
    email: str


class InvitationRead(ReadModel):
    id: str
    email: str
    role: Role
    expires_at: Timestamp
    created_at: Timestamp
    invited_by: Inviter


class InvitationCreated(ReadModel):
    id: str
    email: str
    role: Role
    expires_at: Timestamp
    invite_link: str


class InvitingOrg(ReadModel):
    name: str


class InvitationPreview(ReadModel):
    email: str
    role: Role
    org: InvitingOrg
    # Tells the page whether to ask for a name and a new password, or for the account's password.
    existing_account: bool


class InvitationAcceptance(ApiModel):
    token: Annotated[str, Field(min_length=1, max_length=256)]
    # Needed for a new account only; an existing account keeps its name.
    name: trimmed(200) | None = None  # type: ignore[valid-type]
    # Checked against the account's own password, or (new account) 8 to 1024 characters.
    password: Annotated[str, Field(max_length=1024)]
    # An existing account with two-factor sign-in on: a current code or an unused recovery code.
    code: Annotated[str, Field(min_length=1, max_length=64)] | None = None
