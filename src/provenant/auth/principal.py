"""Who is calling: the one object every authenticated route receives."""

from dataclasses import dataclass

from provenant.auth.roles import Access, Action, Role, can, may


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
    # What the key may do within its creator's role; FULL for a JWT.
    access: Access = Access.FULL
    # The key's requests a minute (auth.rate_limits); None: no limit, and for a JWT.
    rate_limit_per_minute: int | None = None
    # Whether the user has two-factor sign-in on, and whether their org requires it (of JWTs; see auth.deps).
    two_factor: bool = False
    org_requires_two_factor: bool = False

    @property
    def auth_method(self) -> str:
        return "api_key" if self.api_key_id else "jwt"

    @property
    def lacks_required_two_factor(self) -> bool:
        """A person signed in without the two-factor sign-in their org requires; keys are not held to it."""
        return self.api_key_id is None and self.org_requires_two_factor and not self.two_factor

    def may(self, action: Action) -> bool:
        """Whether both the role and the key's access allow ``action`` (see auth.roles)."""
        return may(self.role, self.access, action)

    def can(self, action: Action) -> bool:
        """What the role alone allows, for rules applied after the route's ``may`` passed."""
        return can(self.role, action)
