"""The one place that decides what a caller may do: the Roles table of the API contract, and the
access of the API key they call with ("Key access and rolling"). An action is allowed only when
both the role and the key's access allow it; route dependencies (auth.deps) ask ``may``, services
ask the ``can_*`` rules that also depend on what is acted on (whose agent, which role)."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache


class Role(StrEnum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"
    VIEWER = "VIEWER"


class Access(StrEnum):
    """What an API key may do on top of its creator's role; a JWT acts with ``FULL``."""

    FULL = "full"  # the creator's current role
    READ = "read"  # reads only
    INGEST = "ingest"  # what an instrumented agent needs


class Action(StrEnum):
    READ = "read"  # the org's agents, sessions, members; one's own keys
    READ_OWN_SESSIONS = "read_own_sessions"  # the sessions the calling key created
    INGEST = "ingest"  # get-or-create agents, create sessions, add turns, end sessions
    WRITE = "write"  # create and edit agents
    MANAGE_OWN_KEYS = "manage_own_keys"  # create, revoke and roll one's own keys
    DELETE_OWN = "delete_own"
    DELETE_ANY = "delete_any"
    MANAGE_ORG_KEYS = "manage_org_keys"  # see and revoke every key of the org; never roll another's
    INVITE = "invite"
    READ_INVITATIONS = "read_invitations"  # the org's pending invitations
    CHANGE_ROLES = "change_roles"
    REMOVE_MEMBERS = "remove_members"
    READ_AUDIT = "read_audit"
    MANAGE_ORG_SETTINGS = "manage_org_settings"  # such as requiring two-factor sign-in
    READ_TRUST_POLICIES = "read_trust_policies"  # which CI jobs may exchange their ID tokens for keys
    MANAGE_TRUST_POLICIES = "manage_trust_policies"  # create and delete those policies


_ADMINISTER = frozenset(
    {
        Action.READ,
        Action.READ_OWN_SESSIONS,
        Action.INGEST,
        Action.WRITE,
        Action.MANAGE_OWN_KEYS,
        Action.DELETE_OWN,
        Action.DELETE_ANY,
        Action.MANAGE_ORG_KEYS,
        Action.INVITE,
        Action.READ_INVITATIONS,
        Action.CHANGE_ROLES,
        Action.REMOVE_MEMBERS,
        Action.READ_AUDIT,
        Action.READ_TRUST_POLICIES,
        Action.MANAGE_TRUST_POLICIES,
    }
)

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.OWNER: _ADMINISTER | {Action.MANAGE_ORG_SETTINGS},
    Role.ADMIN: _ADMINISTER,
    Role.MEMBER: frozenset(
        {Action.READ, Action.READ_OWN_SESSIONS, Action.INGEST, Action.WRITE, Action.DELETE_OWN, Action.MANAGE_OWN_KEYS}
    ),
    # Every role may create keys (the contract); a VIEWER's key can still only read.
    Role.VIEWER: frozenset({Action.READ, Action.READ_OWN_SESSIONS, Action.MANAGE_OWN_KEYS}),
}

ACCESS: dict[Access, frozenset[Action]] = {
    Access.FULL: frozenset(Action),
    Access.READ: frozenset(
        {Action.READ, Action.READ_OWN_SESSIONS, Action.READ_INVITATIONS, Action.READ_AUDIT, Action.READ_TRUST_POLICIES}
    ),
    Access.INGEST: frozenset({Action.INGEST, Action.READ_OWN_SESSIONS}),
}


def may(role: Role, access: Access, action: Action) -> bool:
    """The rule every route's dependency applies: the role and the key's access both allow it."""
    return action in PERMISSIONS[role] and action in ACCESS[access]


def can(role: Role, action: Action) -> bool:
    """What the role alone allows (for the ``can_*`` rules below, which services apply after the
    route's ``may`` has passed)."""
    return action in PERMISSIONS[role]


def can_delete(role: Role, *, caller_id: str, creator_id: str | None) -> bool:
    """MEMBER deletes (archives) only what they created; OWNER and ADMIN anything."""
    if can(role, Action.DELETE_ANY):
        return True
    return can(role, Action.DELETE_OWN) and creator_id == caller_id


def can_roll_key(role: Role, *, caller_id: str, creator_id: str) -> bool:
    """Only the key's creator, whatever the role: a roll answers with a new key that acts as the key's
    creator, and nobody may receive a credential that acts as someone else. Whoever may see another's
    key (OWNER, ADMIN) may revoke it, and its creator then rolls or creates their own."""
    return can(role, Action.MANAGE_OWN_KEYS) and caller_id == creator_id


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


def can_issue_password_reset(role: Role, *, target: Role) -> bool:
    """A reset link for another member follows "change roles": OWNER for anyone, ADMIN for MEMBER and VIEWER."""
    if not can(role, Action.CHANGE_ROLES):
        return False
    return role is Role.OWNER or target in (Role.MEMBER, Role.VIEWER)


# What auth.deps admits from a person signed in to the dashboard (a JWT) only, never from an API key whatever its
# access: the org's security settings (RequireOrgSettingsManager), and a member's reset link, which acts as that
# member (RequireResetIssuer: a person who may change roles).
IN_PERSON = frozenset({Action.MANAGE_ORG_SETTINGS})


@dataclass(frozen=True, slots=True)
class Permissions:
    """What a caller may do now, for a client to show or hide (``GET /api/auth/me``): the table and the ``can_*``
    rules above, read for one role and credential. Per-item rules (whose agent, the last OWNER, oneself) stay
    with the client and the services."""

    actions: tuple[Action, ...]
    grantable_roles: tuple[Role, ...]
    role_changes: Mapping[Role, tuple[Role, ...]]  # the target's current role → the roles it may be given
    removable_roles: tuple[Role, ...]
    password_reset_roles: tuple[Role, ...]


NO_PERMISSIONS = Permissions((), (), {role: () for role in Role}, (), ())


@cache  # 4 roles x 3 accesses x 2: asked on every GET /api/auth/me
def permissions(role: Role, access: Access, *, in_person: bool) -> Permissions:
    """What the routes of auth.deps let a caller with ``role`` and ``access`` do (``in_person``: with a JWT)."""

    def allowed(action: Action) -> bool:
        return may(role, access, action) and (in_person or action not in IN_PERSON)

    invites, changes, removes = allowed(Action.INVITE), allowed(Action.CHANGE_ROLES), allowed(Action.REMOVE_MEMBERS)
    return Permissions(
        actions=tuple(action for action in Action if allowed(action)),
        grantable_roles=tuple(granted for granted in Role if invites and can_grant(role, granted)),
        role_changes={
            current: tuple(
                new
                for new in Role
                if changes and new is not current and can_change_role(role, current=current, new=new)
            )
            for current in Role
        },
        removable_roles=tuple(target for target in Role if removes and can_remove(role, target=target)),
        # A reset link acts as its member: issued in person only, as RequireResetIssuer admits.
        password_reset_roles=tuple(
            target for target in Role if changes and in_person and can_issue_password_reset(role, target=target)
        ),
    )


def can_reach_every_session(role: Role, access: Access) -> bool:
    """Whether the caller reads and writes every session of its org. One who may only read its own sessions
    (an ``ingest`` key: ``READ_OWN_SESSIONS`` without ``READ``) reaches those its credential created."""
    return may(role, access, Action.READ)
