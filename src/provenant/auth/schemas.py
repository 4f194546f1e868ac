from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field

from provenant.auth.security import is_common_password
from provenant.schemas import ApiModel, Slug, trimmed


def _not_common(password: str) -> str:
    if is_common_password(password):
        raise ValueError("is one of the 10,000 most common passwords; choose another")
    return password


# A password someone is choosing: any Unicode, never trimmed or truncated (argon2 takes it whole).
NewPassword = Annotated[str, Field(min_length=8, max_length=1024), AfterValidator(_not_common)]
# A password someone is presenting: no minimum, a short one is simply wrong.
PresentedPassword = Annotated[str, Field(max_length=1024)]


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


class UserRead(ApiModel):
    id: str
    name: str
    email: str
    role: str
    org_id: str


class OrgRead(ApiModel):
    id: str
    name: str
    slug: str


class AuthResult(ApiModel):
    token: str
    user: UserRead
    org: OrgRead


class ApiKeyRef(ApiModel):
    id: str
    name: str


class Me(ApiModel):
    id: str
    name: str
    email: str
    role: str
    org_id: str
    org: OrgRead
    auth_method: str
    api_key: ApiKeyRef | None = None


class PasswordChange(ApiModel):
    current_password: PresentedPassword
    new_password: NewPassword
