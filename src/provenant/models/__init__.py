"""Every table, one module per domain; import them from here (``from provenant.models import User``).

Timestamps are stored as UTC and always come back timezone-aware (``UTCDateTime``). Importing this
package registers every table on ``Base.metadata``, which Alembic compares the database with.
"""

from provenant.models.agents import Agent, AgentSession, Turn
from provenant.models.api_keys import ApiKey, ApiKeyUsage, TrustPolicy, UsedIdToken
from provenant.models.audit import AuditEntry
from provenant.models.base import Base, IdColumn, JSONType, UTCDateTime, new_id, utcnow
from provenant.models.orgs import Invitation, Org, User
from provenant.models.outbox import OutboxEmail
from provenant.models.sign_in import (
    AuthAttempt,
    ExternalIdentity,
    PasswordReset,
    RecoveryCode,
    RevokedToken,
    SignInCode,
    SsoConfig,
    SsoDomain,
)

__all__ = [
    "Agent",
    "AgentSession",
    "ApiKey",
    "ApiKeyUsage",
    "AuditEntry",
    "AuthAttempt",
    "Base",
    "ExternalIdentity",
    "IdColumn",
    "Invitation",
    "JSONType",
    "Org",
    "OutboxEmail",
    "PasswordReset",
    "RecoveryCode",
    "RevokedToken",
    "SignInCode",
    "SsoConfig",
    "SsoDomain",
    "TrustPolicy",
    "Turn",
    "UTCDateTime",
    "UsedIdToken",
    "User",
    "new_id",
    "utcnow",
]
