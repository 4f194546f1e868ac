"""Who is calling: the one object every authenticated route receives."""

from dataclasses import dataclass

from provenant.auth.roles import Action, Role, can
from provenant.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, as the audit log records it."""

    org_id: str | None
    user_id: str | None
    api_key_id: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class Principal(Actor):
    """An authenticated user in their org, with their current role; ``api_key_id`` set when a key was used."""

    org_id: str
    user_id: str
    role: Role = Role.VIEWER
    name: str = ""
    email: str = ""
    org_name: str = ""
    org_slug: str = ""
    api_key_name: str | None = None
    # What the key may do on top of the role's limits ("full", "read", "ingest"); "full" for a JWT.
    access: str = "full"

    @property
    def auth_method(self) -> str:
        return "api_key" if self.api_key_id else "jwt"

    def can(self, action: Action) -> bool:
        return can(self.role, action)

    def require(self, action: Action) -> None:
        if not can(self.role, action):
            raise Forbidden()
