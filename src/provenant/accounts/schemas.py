from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, EmailStr, Field

from provenant.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, new_password_problem
from provenant.auth.roles import Action, Role
from provenant.schemas import ApiModel, ReadModel, Slug, Timestamp, trimmed


def _acceptable(password: str) -> str:
    problem = new_password_problem(password)
    if problem:
        raise ValueError(problem)
    return password


# A password someone is choosing: any Unicode, never trimmed or truncated (argon2 takes it whole). The lengths
# are also stated in the schema, for OpenAPI; new_password_problem is the rule.
NewPassword = Annotated[
    str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH), AfterValidator(_acceptable)
]
# A password someone is presenting: no minimum, a short one is simply wrong.
PresentedPassword = Annotated[str, Field(max_length=MAX_PASSWORD_LENGTH)]


class RegisterRequest(ApiModel):
    name: trimmed(200)  # type: ignore[valid-type]
    email: EmailStr
    password: NewPassword
    org_name: trimmed(200)  # type: ignore[valid-type]
    org_slug: Slug


class LoginRequest(ApiModel):
    email: Annotated[str, Field(max_length=320)]
    # No minimum: a short password is simply wrong, and says nothing about the account.
    password: PresentedPassword


class UserRead(ReadModel):
    id: str
    name: str
    email: str
    role: str
    org_id: str


class OrgRead(ReadModel):
    id: str
    name: str
    slug: str


class AuthResult(ReadModel):
    token: str
    user: UserRead
    org: OrgRead


class ApiKeyRef(ReadModel):
    id: str
    name: str


class PermissionsRead(ReadModel):
    """What the caller may do now, read from the table the routes apply: a client shows only what will work.
    Per-item rules stay the client's to apply: nobody removes themselves, an org keeps an OWNER, a MEMBER deletes
    what they created."""

    # Kept as the enums' values (the document and the JSON are the same): serialising about forty enum members
    # called Python's Enum.value for each, most of what /api/auth/me spent writing its answer.
    model_config = ReadModel.model_config | ConfigDict(use_enum_values=True)

    actions: list[Action]
    grantable_roles: list[Role]
    role_changes: dict[Role, list[Role]]  # the target's current role → the roles the caller may give them
    removable_roles: list[Role]
    password_reset_roles: list[Role]


class Me(ReadModel):
    id: str
    name: str
    email: str
    role: str
    org_id: str
    org: OrgRead
    auth_method: str
    api_key: ApiKeyRef | None = None
    # Whether this person (for a key: its creator) has two-factor sign-in on, and whether the org requires it.
    two_factor: bool
    two_factor_required: bool
    permissions: PermissionsRead


class MfaChallengeRead(ReadModel):
    """A right password for an account with two-factor sign-in on: the code goes to POST /api/auth/login/2fa."""

    mfa_required: bool
    mfa_token: str
    methods: list[str]


class PasswordChange(ApiModel):
    current_password: PresentedPassword
    new_password: NewPassword


class AuthConfig(ReadModel):
    """What the sign-in page may offer."""

    signup: Literal["open", "invite-only"]
    password_reset: bool
    sso: bool = False
    github: bool = False


class ForgotPassword(ApiModel):
    # Not EmailStr: whatever is typed gets the same answer, and a 422 would only tell a typo apart.
    email: Annotated[str, Field(min_length=1, max_length=320)]


class Message(ReadModel):
    message: str


class PasswordReset(ApiModel):
    token: Annotated[str, Field(min_length=1, max_length=256)]
    password: NewPassword


class PasswordResetDone(AuthResult):
    message: str


class PasswordResetIssued(ReadModel):
    reset_link: str
    expires_at: Timestamp
