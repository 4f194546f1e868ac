from datetime import UTC, datetime

from fastapi import APIRouter, Request, status

from provenant.auth.deps import AnonymousActor, RequireTrustPolicyManager, RequireTrustPolicyReader, attempt_limiter
from provenant.models import TrustPolicy
from provenant.oidc.tokens import IssuerKeys
from provenant.schemas import Success
from provenant.trust import exchange, service
from provenant.trust.schemas import ExchangedKey, TokenExchange, TrustPolicyCreate, TrustPolicyRead
from provenant.unit_of_work import DatabaseDep, SessionDep, unit_of_work

router = APIRouter(prefix="/api/org/trust-policies", tags=["trusted ci"])
exchange_router = APIRouter(tags=["trusted ci"])


def issuer_keys(request: Request) -> IssuerKeys:
    """The app's cache of issuers' signing keys (made in create_app, with the address rules)."""
    keys: IssuerKeys = request.app.state.issuer_keys
    return keys


@router.get("", response_model=list[TrustPolicyRead])
async def list_trust_policies(session: SessionDep, caller: RequireTrustPolicyReader) -> list[TrustPolicy]:
    """The policies in force, newest first."""
    return service.list_policies(session, caller)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TrustPolicyRead)
async def create_trust_policy(
    request: Request, session: SessionDep, caller: RequireTrustPolicyManager, body: TrustPolicyCreate
) -> TrustPolicy:
    """OWNER and ADMIN. Keys minted under the policy act with the creator's current role, narrowed by `access`."""
    return service.create_policy(
        session,
        caller,
        issuer_keys(request).rules,
        name=body.name,
        issuer=body.issuer,
        audience=body.audience,
        claims=body.claims,
        access=body.access,
        ttl_seconds=body.ttl_seconds,
    )


@router.delete("/{policy_id}", response_model=Success)
async def delete_trust_policy(session: SessionDep, caller: RequireTrustPolicyManager, policy_id: str) -> Success:
    """Ends the policy and revokes every key minted under it, at once."""
    service.delete_policy(session, caller, policy_id)
    return Success()


@exchange_router.post(
    "/api/auth/token-exchange",
    status_code=status.HTTP_201_CREATED,
    response_model=ExchangedKey,
)
async def exchange_id_token(
    request: Request, database: DatabaseDep, session: SessionDep, caller: AnonymousActor, body: TokenExchange
) -> ExchangedKey:
    """No authentication: the ID token is the credential. A CI job's OpenID Connect ID token, matched against
    the trust policies, becomes an API key that expires at now + the policy's TTL; the only answer that
    carries it. Refusals count against the client's address as failed key authentications do."""
    limiter, now = attempt_limiter(request), datetime.now(UTC)
    limiter.check_api_key(caller.ip_address, now)
    try:
        done = await exchange.exchange(database, session, caller, issuer_keys(request), id_token=body.id_token)
    except exchange.REFUSALS:
        # Rolled back first: a reused token is found inside the request's transaction, which on SQLite
        # holds the write lock that counting the failure needs.
        unit_of_work(request).finish(commit=False)
        await limiter.api_key_failed(caller.ip_address, now)
        raise
    key = done.new.stored
    assert key.expires_at is not None
    return ExchangedKey(key=done.new.secret, expires_at=key.expires_at, access=key.access, policy_id=done.policy_id)
