"""The one place that decides what each role may do (the Roles table of the API contract)."""

from enum import StrEnum


class Role(StrEnum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"
    VIEWER = "VIEWER"


class Action(StrEnum):
    READ = "read"
    WRITE = "write"  # create and edit
    DELETE_OWN = "delete_own"
    DELETE_ANY = "delete_any"
    MANAGE_ORG_KEYS = "manage_org_keys"  # see and revoke every key of the org
    INVITE = "invite"
    CHANGE_ROLES = "change_roles"
    REMOVE_MEMBERS = "remove_members"
    READ_AUDIT = "read_audit"


_ADMINISTER = frozenset(
    {
        Action.READ,
        Action.WRITE,
        Action.DELETE_OWN,
        Action.DELETE_ANY,
        Action.MANAGE_ORG_KEYS,
        Action.INVITE,
        Action.CHANGE_ROLES,
        Action.REMOVE_MEMBERS,
        Action.READ_AUDIT,
    }
)

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.OWNER: _ADMINISTER,
    Role.ADMIN: _ADMINISTER,
    Role.MEMBER: frozenset({Action.READ, Action.WRITE, Action.DELETE_OWN}),
    Role.VIEWER: frozenset({Action.READ}),
}


def can(role: Role, action: Action) -> bool:
    return action in PERMISSIONS[role]


def can_delete(role: Role, *, caller_id: str, creator_id: str | None) -> bool:
    """MEMBER deletes (archives) only what they created; OWNER and ADMIN anything."""
    if can(role, Action.DELETE_ANY):
        return True
    return can(role, Action.DELETE_OWN) and creator_id == caller_id


def can_grant(role: Role, granted: Role) -> bool:
    """Whether ``role`` may invite someone as ``granted``: OWNER anything but OWNER, ADMIN below ADMIN."""
    if not can(role, Action.INVITE):
        return False
    if role is Role.OWNER:
        return granted is not Role.OWNER
    return granted in (Role.MEMBER, Role.VIEWER)


def can_change_role(role: Role, *, current: Role, new: Role) -> bool:
    """OWNER changes any role; ADMIN moves non-admins between MEMBER and VIEWER only."""
    if not can(role, Action.CHANGE_ROLES):
        return False
    if role is Role.OWNER:
        return True
    return current in (Role.MEMBER, Role.VIEWER) and new in (Role.MEMBER, Role.VIEWER)


def can_remove(role: Role, *, target: Role) -> bool:
    """OWNER removes anyone; ADMIN removes neither an OWNER nor another ADMIN."""
    if not can(role, Action.REMOVE_MEMBERS):
        return False
    return role is Role.OWNER or target in (Role.MEMBER, Role.VIEWER)
