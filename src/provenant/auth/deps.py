"""The aliases routes put in their signatures: who is calling, and what they must be allowed to do.

A route without a Principal parameter is public, and that is the only way to be public.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant

from provenant.auth.attempts import AttemptLimiter
from provenant.auth.authenticate import authenticate_bearer, bearer_token
from provenant.auth.principal import Actor, Principal
from provenant.auth.rate_limits import KeyRateLimiter
from provenant.auth.roles import Action
from provenant.auth.security import API_KEY_PREFIX
from provenant.errors import Forbidden, Unauthenticated
from provenant.headers import ANSWER_HEADERS
from provenant.unit_of_work import get_database


async def _anonymous_actor(request: Request) -> Actor:
    """The caller of a public route (register, login), as the audit log records it."""
    return Actor(
        org_id=None,
        user_id=None,
        ip_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


def attempt_limiter(request: Request) -> AttemptLimiter:
    """The app's limiter of guesses (made by create_app)."""
    limiter: AttemptLimiter = request.app.state.attempt_limiter
    return limiter


# Why a key was refused, for the codes that count as a guess (a removed creator's key is no guess).
_FAILED_KEY_CODES = frozenset({"invalid_api_key", "api_key_revoked", "api_key_expired"})


async def _authenticated(request: Request) -> Principal:
    """Who is calling, before the org's two-factor requirement is applied (``_principal`` applies it)."""
    # Reads the header itself: a nested security dependency (HTTPBearer) costs FastAPI about a
    # third of an authenticated request. app.py declares the bearer scheme in OpenAPI instead.
    token = bearer_token(request.headers.get("authorization"))
    ip = request.client.host if request.client else None
    now = datetime.now(UTC)
    is_key = token is not None and token.startswith(API_KEY_PREFIX)
    if is_key:
        attempt_limiter(request).check_api_key(ip, now)  # in memory: a blocked IP never reaches the database
    try:
        principal = authenticate_bearer(
            get_database(request),
            token,
            secret=request.app.state.jwt_secret,
            key_use=request.app.state.key_use,
            now=now,
            ip=ip,
            user_agent=request.headers.get("user-agent"),
        )
    except Unauthenticated as refused:
        if is_key and refused.code in _FAILED_KEY_CODES:
            await attempt_limiter(request).api_key_failed(ip, now)
        raise
    if principal.rate_limit_per_minute is not None:  # a key with a limit: one Redis call or a dictionary
        assert principal.api_key_id is not None
        limiter: KeyRateLimiter = request.app.state.rate_limiter
        headers = await limiter.admit(principal.api_key_id, principal.rate_limit_per_minute, now)
        request.scope["state"][ANSWER_HEADERS] = headers
    return principal


def _hold_to_two_factor(principal: Principal) -> Principal:
    if principal.lacks_required_two_factor:
        raise Forbidden(
            "Your organization requires two-factor sign-in: turn it on under Account before going on.",
            code="two_factor_required",
        )
    return principal


async def _principal(request: Request) -> Principal:
    """Who is calling; 403 ``two_factor_required`` for a person whose org requires two-factor sign-in and who
    has not turned it on. Every authenticated route passes here, except the few a person needs to turn it on
    (``CallerBeforeTwoFactor``, ``PersonBeforeTwoFactor``). The facts come with the authenticating query."""
    return _hold_to_two_factor(await _authenticated(request))


CurrentPrincipal = Annotated[Principal, Depends(_principal)]
AnonymousActor = Annotated[Actor, Depends(_anonymous_actor)]


def _requires(*actions: Action) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting callers who may do any of ``actions`` (auth.roles.may); 403 otherwise."""

    # async and flat, like every dependency here: a sync one costs a thread hop per request, a
    # nested one another pass of FastAPI's dependency solver.
    async def dependency(request: Request) -> Principal:
        principal = await _principal(request)
        if not any(principal.may(action) for action in actions):
            raise Forbidden()
        return principal

    _AUTHENTICATING.add(dependency)
    return dependency


def _in_person(principal: Principal) -> Principal:
    if principal.api_key_id is not None:
        raise Forbidden("Only a person signed in to the dashboard can do this, not an API key.")
    return principal


async def _person_who_changes_roles(request: Request) -> Principal:
    principal = await _signed_in_person(request)
    if not principal.may(Action.CHANGE_ROLES):
        raise Forbidden()
    return principal


async def _signed_in_person(request: Request) -> Principal:
    return _in_person(await _principal(request))


async def _person_before_two_factor(request: Request) -> Principal:
    return _in_person(await _authenticated(request))


def _person_requires(action: Action) -> Callable[[Request], Awaitable[Principal]]:
    """A person (JWT) who may do ``action``: for changes no API key should make, however it leaked."""

    async def dependency(request: Request) -> Principal:
        principal = await _signed_in_person(request)
        if not principal.may(action):
            raise Forbidden()
        return principal

    _AUTHENTICATING.add(dependency)
    return dependency


_AUTHENTICATING: set[Callable[..., Awaitable[Principal]]] = {
    _principal,
    _signed_in_person,
    _person_who_changes_roles,
    _authenticated,
    _person_before_two_factor,
}


def is_authenticated(dependant: Dependant) -> bool:
    """Whether a route's dependencies identify the caller (for the OpenAPI security declaration)."""
    return any(
        dependency.call in _AUTHENTICATING or is_authenticated(dependency) for dependency in dependant.dependencies
    )


# What a route's signature says about who may call it. Each names one action of auth.roles; whose
# agent, key or session it is (ownership) is the service's to check.
RequireRead = Annotated[Principal, Depends(_requires(Action.READ))]
# Sessions: readers, and ingest keys for the sessions they created (sessions.access narrows).
RequireSessionReader = Annotated[Principal, Depends(_requires(Action.READ, Action.READ_OWN_SESSIONS))]
RequireIngest = Annotated[Principal, Depends(_requires(Action.INGEST))]
RequireWrite = Annotated[Principal, Depends(_requires(Action.WRITE))]
# MEMBER deletes only what they created, OWNER and ADMIN anything: the service decides which.
RequireDelete = Annotated[Principal, Depends(_requires(Action.DELETE_OWN, Action.DELETE_ANY))]
# Own keys; OWNER and ADMIN also others' (the service decides which).
RequireKeyManager = Annotated[Principal, Depends(_requires(Action.MANAGE_OWN_KEYS))]
RequireInviter = Annotated[Principal, Depends(_requires(Action.INVITE))]
RequireInvitationReader = Annotated[Principal, Depends(_requires(Action.READ_INVITATIONS))]
RequireRoleChanger = Annotated[Principal, Depends(_requires(Action.CHANGE_ROLES))]
RequireMemberRemover = Annotated[Principal, Depends(_requires(Action.REMOVE_MEMBERS))]
RequireAuditReader = Annotated[Principal, Depends(_requires(Action.READ_AUDIT))]
RequireTrustPolicyReader = Annotated[Principal, Depends(_requires(Action.READ_TRUST_POLICIES))]
RequireTrustPolicyManager = Annotated[Principal, Depends(_requires(Action.MANAGE_TRUST_POLICIES))]
# A person with a JWT: sessions and passwords are theirs; an API key gets 403.
SignedInPerson = Annotated[Principal, Depends(_signed_in_person)]
# A reset link for a member acts as that member: a person in the dashboard who may change roles issues it, never
# an API key (a leaked OWNER key must not become a way into everyone's account).
RequireResetIssuer = Annotated[Principal, Depends(_person_who_changes_roles)]
# The routes a person needs to turn on the two-factor sign-in their org requires, and to leave: who am I,
# sign-out, and the two-factor routes themselves. Every other route holds them to it (``_principal``).
CallerBeforeTwoFactor = Annotated[Principal, Depends(_authenticated)]
PersonBeforeTwoFactor = Annotated[Principal, Depends(_person_before_two_factor)]
# OWNER, in person: an API key never changes the org's security settings.
RequireOrgSettingsManager = Annotated[Principal, Depends(_person_requires(Action.MANAGE_ORG_SETTINGS))]
