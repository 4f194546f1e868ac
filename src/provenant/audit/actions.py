"""Every action the audit log knows, listed once."""

from enum import StrEnum


class AuditAction(StrEnum):
    AUTH_REGISTER = "auth.register"
    AUTH_LOGIN = "auth.login"
    AUTH_LOGIN_FAILED = "auth.login_failed"
    AUTH_LOGOUT = "auth.logout"
    AUTH_LOGOUT_ALL = "auth.logout_all"
    AUTH_PASSWORD_CHANGED = "auth.password_changed"  # noqa: S105 - an action name, not a password
    AUTH_PASSWORD_RESET_REQUESTED = "auth.password_reset_requested"  # noqa: S105 - an action name
    AUTH_PASSWORD_RESET = "auth.password_reset"  # noqa: S105 - an action name
    AUTH_2FA_ENABLED = "auth.2fa_enabled"
    AUTH_2FA_DISABLED = "auth.2fa_disabled"
    AUTH_2FA_RECOVERY_CODES_REGENERATED = "auth.2fa_recovery_codes_regenerated"
    # A wrong second-factor code at sign-in (the password was right).
    AUTH_LOGIN_2FA_FAILED = "auth.login_2fa_failed"
    ORG_REQUIRE_2FA_CHANGED = "org.require_2fa_changed"
    # Signed in through the org's identity provider (single sign-on), or through GitHub.
    AUTH_SSO_LOGIN = "auth.sso_login"
    AUTH_GITHUB_LOGIN = "auth.github_login"
    # A GitHub account linked to an existing account by its verified email (later sign-ins go by its id).
    AUTH_GITHUB_LINKED = "auth.github_linked"
    ORG_SSO_UPDATED = "org.sso_updated"
    ORG_SSO_DELETED = "org.sso_deleted"
    APIKEY_CREATE = "apikey.create"
    APIKEY_REVOKE = "apikey.revoke"
    APIKEY_ROLL = "apikey.roll"
    # Revoked because someone reported the key exposed (POST /api/keys/report-leaked, no sign-in).
    APIKEY_REVOKED_LEAKED = "apikey.revoked_leaked"
    # A CI job's OpenID Connect ID token exchanged for a short-lived key (POST /api/auth/token-exchange).
    APIKEY_EXCHANGED = "apikey.exchanged"
    TRUST_POLICY_CREATE = "trust_policy.create"
    # Deleting a policy also revokes the keys minted under it.
    TRUST_POLICY_DELETE = "trust_policy.delete"
    AGENT_CREATE = "agent.create"
    AGENT_UPDATE = "agent.update"
    AGENT_ARCHIVE = "agent.archive"
    SESSION_CREATE = "session.create"
    SESSION_END = "session.end"
    SESSION_DELETE = "session.delete"
    TEAM_MEMBER_INVITED = "team.member.invited"
    TEAM_INVITATION_ACCEPTED = "team.invitation.accepted"
    TEAM_MEMBER_ROLE_CHANGED = "team.member.role_changed"
    TEAM_MEMBER_REMOVED = "team.member.removed"
    TEAM_INVITATION_CANCELLED = "team.invitation.cancelled"
    # An OWNER or ADMIN (or the operator's command line) issued a reset link for someone's account.
    TEAM_MEMBER_PASSWORD_RESET_ISSUED = "team.member.password_reset_issued"  # noqa: S105 - an action name
    # A member accepted an invitation to another org (a user belongs to one org).
    TEAM_MEMBER_LEFT = "team.member.left"
    # A person the org's identity provider let in for the first time (or again, after being removed).
    TEAM_MEMBER_JOINED_SSO = "team.member.joined_sso"
