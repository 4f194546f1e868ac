"""The exchange of a CI job's ID token for a short-lived key (POST /api/auth/token-exchange).

1. The token names its issuer; only issuers some policy trusts are ever fetched (a made-up issuer
   costs nothing and reaches nobody).
2. The token is verified against that issuer's keys (oidc.tokens) for the policies' audiences, outside
   any transaction: a fetch holds no database lock.
3. The policies whose claims it matches: one organization's, or the exchange is refused. Of several in
   that organization, the one that names the most claims (the narrowest), then the oldest.
4. In the request's transaction: the policy is locked against deletion (FOR SHARE; deleting takes FOR
   UPDATE), the token is marked used (a unique row: the second exchange of it, in any process, finds it),
   and the key is minted and audited.
"""

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from provenant.api_keys import service as api_keys
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth.principal import Actor
from provenant.db import Database
from provenant.errors import Conflict, Forbidden, ProvenantError, Unauthenticated
from provenant.models import TrustPolicy, UsedIdToken, User
from provenant.oidc.fetch import FetchFailed, FetchRefused
from provenant.oidc.tokens import LEEWAY, IssuerKeys, TokenRejected, unverified_issuer, verify_id_token

# The job's identity as the audit log records it (GitHub's names; GitLab's project_path too).
JOB_CLAIMS = ("sub", "repository", "project_path", "ref", "run_id", "pipeline_id", "sha")
_MAX_CLAIM_LENGTH = 200
# 9999-12-31 23:58:59 UTC: a token's exp beyond what a date can hold (an issuer's mistake) is kept until then.
_LAST_TIMESTAMP = 253402300739
# Rows of tokens past their expiry are swept by the exchange that draws this chance, not by a scheduler.
_SWEEP_CHANCE = 1 / 20


class InvalidIdToken(Unauthenticated):
    code = "invalid_id_token"


class IdTokenReused(Unauthenticated):
    code = "id_token_reused"
    message = "This ID token was exchanged before: each job's token works once."


class NoMatchingPolicy(Forbidden):
    code = "no_matching_policy"
    message = "No trust policy accepts this ID token: check the policy's repository, branch and audience."


class AmbiguousPolicy(Conflict):
    code = "ambiguous_policy"
    message = (
        "This ID token matches trust policies of more than one organization: give your organization's policy an "
        "audience of its own and request the token for it (PROVENANT_OIDC_AUDIENCE)."
    )


class IssuerUnavailable(ProvenantError):
    status_code = 503
    code = "issuer_unavailable"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}


# What counts as a failed attempt for the per-IP limit, as a wrong key does.
REFUSALS = (InvalidIdToken, IdTokenReused, NoMatchingPolicy, AmbiguousPolicy)


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A policy in force, read before the token is verified (outside the request's transaction)."""

    id: str
    org_id: str
    name: str
    audience: str
    claims: dict[str, str]
    access: str
    ttl_seconds: int
    created_by_id: str
    created_at: datetime

    def admits(self, token: dict[str, Any]) -> bool:
        audiences = token.get("aud")
        if self.audience not in ([audiences] if isinstance(audiences, str) else audiences or []):
            return False
        return all(_claim_matches(token.get(name), expected) for name, expected in self.claims.items())


def _claim_matches(actual: Any, expected: str) -> bool:
    if not isinstance(actual, str):
        return False
    if expected.endswith("*"):
        return actual.startswith(expected[:-1])
    return actual == expected


@dataclass(frozen=True, slots=True)
class Exchanged:
    new: api_keys.NewKey
    policy_id: str


def _trusting(session: Session, issuer: str) -> list[_Candidate]:
    """The policies in force for ``issuer`` in every org, whose creators still belong to their org."""
    rows = session.scalars(
        select(TrustPolicy)
        .join(User, User.id == TrustPolicy.created_by_id)
        .where(
            TrustPolicy.issuer == issuer,
            TrustPolicy.deleted_at.is_(None),
            User.org_id == TrustPolicy.org_id,
            User.role.is_not(None),
        )
    )
    return [
        _Candidate(
            id=p.id,
            org_id=p.org_id,
            name=p.name,
            audience=p.audience,
            claims=dict(p.claims),
            access=p.access,
            ttl_seconds=p.ttl_seconds,
            created_by_id=p.created_by_id,
            created_at=p.created_at,
        )
        for p in rows
    ]


async def _verified(keys: IssuerKeys, token: str, *, issuer: str, audiences: set[str]) -> dict[str, Any]:
    try:
        return await verify_id_token(keys, token, issuer=issuer, audiences=audiences)
    except TokenRejected as rejected:
        raise InvalidIdToken(f"The ID token was refused: {rejected}.") from None
    except FetchRefused as refused:
        raise InvalidIdToken(f"The ID token's issuer is not fetched: its URL {refused}.") from None
    except FetchFailed as failed:
        raise IssuerUnavailable(f"The ID token's issuer could not be asked for its keys: {failed}.") from None


def _digest(token: str, claims: dict[str, Any]) -> str:
    """What makes a token "used before": its issuer and jti, or the whole token when it has no jti."""
    jti = claims.get("jti")
    seen = f"{claims['iss']}\n{jti}" if isinstance(jti, str) and jti else token
    return hashlib.sha256(seen.encode()).hexdigest()


def _mark_used(session: Session, token: str, claims: dict[str, Any], *, now: datetime) -> None:
    """IdTokenReused unless this is the token's first exchange. The insert waits, in PostgreSQL, for a
    concurrent exchange of the same token to commit or roll back, and then does nothing or inserts."""
    if random.random() < _SWEEP_CHANCE:  # noqa: S311 - a sampling chance, not a secret
        session.execute(delete(UsedIdToken).where(UsedIdToken.expires_at < now))
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # Kept as long as the token could pass verification (its exp, plus the leeway).
    expires_at = datetime.fromtimestamp(min(int(claims["exp"]), _LAST_TIMESTAMP), UTC) + LEEWAY
    inserted = session.execute(
        insert(UsedIdToken)
        .values(digest=_digest(token, claims), expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=[UsedIdToken.digest])
        .returning(UsedIdToken.digest)
    ).scalar_one_or_none()
    if inserted is None:
        raise IdTokenReused()


def _job(claims: dict[str, Any]) -> dict[str, str]:
    return {
        name: value[:_MAX_CLAIM_LENGTH] for name in JOB_CLAIMS if isinstance(value := claims.get(name), str) and value
    }


def _key_name(job: dict[str, str]) -> str:
    """Which job the key was for, as the list of keys shows it: "acme/app @ refs/heads/main, run 42"."""
    who = job.get("repository") or job.get("project_path") or job.get("sub") or "CI job"
    ref = f" @ {job['ref']}" if "ref" in job else ""
    run = job.get("run_id") or job.get("pipeline_id")
    return f"{who}{ref}{f', run {run}' if run else ''}"[:100]


async def exchange(database: Database, session: Session, actor: Actor, keys: IssuerKeys, *, id_token: str) -> Exchanged:
    try:
        issuer = unverified_issuer(id_token)
    except TokenRejected as rejected:
        raise InvalidIdToken(f"The ID token was refused: {rejected}.") from None
    with database.transaction(writes=False) as reading:
        candidates = _trusting(reading, issuer)
    if not candidates:
        raise InvalidIdToken("The ID token was refused: no trust policy accepts tokens of its issuer.")
    claims = await _verified(keys, id_token, issuer=issuer, audiences={p.audience for p in candidates})
    matching = [policy for policy in candidates if policy.admits(claims)]
    if not matching:
        raise NoMatchingPolicy()
    if len({policy.org_id for policy in matching}) > 1:
        raise AmbiguousPolicy()
    policy = min(matching, key=lambda p: (-len(p.claims), p.created_at, p.id))

    # The request's transaction begins here, after every await.
    still_in_force = session.scalars(
        select(TrustPolicy.id)
        .where(TrustPolicy.id == policy.id, TrustPolicy.deleted_at.is_(None))
        .with_for_update(read=True)
    ).one_or_none()
    if still_in_force is None:
        raise NoMatchingPolicy()  # deleted while the token was being verified
    now = datetime.now(UTC)
    _mark_used(session, id_token, claims, now=now)
    job = _job(claims)
    new = api_keys.mint_ephemeral_key(
        session,
        owner_id=policy.created_by_id,
        org_id=policy.org_id,
        policy_id=policy.id,
        name=_key_name(job),
        access=policy.access,
        expires_at=now + timedelta(seconds=policy.ttl_seconds),
    )
    audit.record(
        session,
        Actor(
            org_id=policy.org_id,
            user_id=policy.created_by_id,
            api_key_id=new.stored.id,
            ip_address=actor.ip_address,
            user_agent=actor.user_agent,
        ),
        AuditAction.APIKEY_EXCHANGED,
        resource_type="api_key",
        resource_id=new.stored.id,
        after={**api_keys.snapshot(new.stored), "policy": {"id": policy.id, "name": policy.name}, "job": job},
    )
    return Exchanged(new=new, policy_id=policy.id)
