"""Trust policies: created and deleted by OWNER and ADMIN; deleting one revokes the keys minted under it."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from provenant.api_keys import service as api_keys
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth.principal import Principal
from provenant.auth.roles import Access
from provenant.errors import NotFound, ValidationFailed
from provenant.models import TrustPolicy, User
from provenant.oidc.fetch import AddressRules, FetchRefused

GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"
# A policy for a shared CI provider must say whose jobs it trusts: without one of these, "ref: main"
# alone would let every GitHub repository's main branch in.
_IDENTITY_CLAIMS = {
    GITHUB_ACTIONS_ISSUER: {"repository", "repository_id", "repository_owner", "repository_owner_id", "sub"},
    GITLAB_ISSUER: {"project_path", "project_id", "namespace_path", "namespace_id", "sub"},
}


def snapshot(policy: TrustPolicy) -> dict[str, Any]:
    return audit.snapshot(policy, "id", "name", "issuer", "audience", "claims", "access", "ttl_seconds")


def _identity_claims(issuer: str) -> set[str] | None:
    for known, claims in _IDENTITY_CLAIMS.items():
        # GitHub Enterprise Cloud issues under https://token.actions.githubusercontent.com/<enterprise>.
        if issuer == known or issuer.startswith(known + "/"):
            return claims
    return None


def _check(rules: AddressRules, *, issuer: str, claims: dict[str, str]) -> None:
    try:
        rules.check_url(issuer)
    except FetchRefused as refused:
        raise ValidationFailed("issuer", str(refused)) from None
    for name, value in claims.items():
        if value == "*":
            raise ValidationFailed(f"claims.{name}", "a lone * matches anything: name a value or a prefix")
    identity = _identity_claims(issuer)
    if identity is not None and not identity & claims.keys():
        raise ValidationFailed(
            "claims", f"must name whose jobs are trusted, with one of: {', '.join(sorted(identity))}"
        )


def create_policy(
    session: Session,
    caller: Principal,
    rules: AddressRules,
    *,
    name: str,
    issuer: str,
    audience: str,
    claims: dict[str, str],
    access: Access,
    ttl_seconds: int,
) -> TrustPolicy:
    _check(rules, issuer=issuer, claims=claims)
    policy = TrustPolicy(
        org_id=caller.org_id,
        name=name,
        issuer=issuer,
        audience=audience,
        claims=claims,
        access=access.value,
        ttl_seconds=ttl_seconds,
        created_by_id=caller.user_id,
        created_at=datetime.now(UTC),
    )
    session.add(policy)
    session.flush()
    set_committed_value(policy, "created_by", session.get_one(User, caller.user_id))
    audit.record(
        session,
        caller,
        AuditAction.TRUST_POLICY_CREATE,
        resource_type="trust_policy",
        resource_id=policy.id,
        after=snapshot(policy),
    )
    return policy


def list_policies(session: Session, caller: Principal) -> list[TrustPolicy]:
    """The org's policies in force, newest first (a few per org: no paging)."""
    query = (
        select(TrustPolicy)
        .join(TrustPolicy.created_by)
        .options(contains_eager(TrustPolicy.created_by))
        .where(TrustPolicy.org_id == caller.org_id, TrustPolicy.deleted_at.is_(None))
        .order_by(TrustPolicy.created_at.desc(), TrustPolicy.id.desc())
    )
    return list(session.scalars(query))


def delete_policy(session: Session, caller: Principal, policy_id: str) -> None:
    """Ends the policy and, in the same transaction, every key minted under it: no job it let in keeps
    working. The row stays (its keys and the audit log name it) and locks out exchanges underway."""
    policy = session.scalars(
        select(TrustPolicy)
        .where(TrustPolicy.id == policy_id, TrustPolicy.org_id == caller.org_id, TrustPolicy.deleted_at.is_(None))
        .with_for_update()
    ).one_or_none()
    if policy is None:
        raise NotFound("Trust policy")
    now = datetime.now(UTC)
    policy.deleted_at = now
    revoked = api_keys.revoke_keys_of_policy(session, policy.id, now=now)
    audit.record(
        session,
        caller,
        AuditAction.TRUST_POLICY_DELETE,
        resource_type="trust_policy",
        resource_id=policy.id,
        before=snapshot(policy),
        after={"revokedKeys": revoked},
    )
