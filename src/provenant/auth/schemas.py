from typing import Annotated

from pydantic import EmailStr, Field

from provenant.schemas import ApiModel, Slug, trimmed

Password = Annotated[str, Field(min_length=8, max_length=1024)]


class RegisterRequest(ApiModel):
    name: trimmed(200)  # type: ignore[valid-type]
    email: EmailStr
    password: Password
    org_name: trimmed(200)  # type: ignore[valid-type]
    org_slug: Slug


class LoginRequest(ApiModel):
    email: Annotated[str, Field(max_length=320)]
    # No minimum: a short password is simply wrong, and says nothing about the account.
    password: Annotated[str, Field(max_length=1024)]


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
