"""The aliases routes put in their signatures: who is calling, and what they must be allowed to do.

A route without a Principal parameter is public, and that is the only way to be public.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from sqlalchemy.orm import Session

from provenant.auth.authenticate import authenticate_bearer, bearer_token
from provenant.auth.principal import Actor, Principal
from provenant.auth.roles import Action
from provenant.db import Database
from provenant.unit_of_work import unit_of_work


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def _database(request: Request) -> Database:
    return get_database(request)


DatabaseDep = Annotated[Database, Depends(_database)]


async def _session(request: Request) -> Session:
    return unit_of_work(request).session


# The request's session; UnitOfWorkMiddleware commits it before a success response starts.
SessionDep = Annotated[Session, Depends(_session)]


async def _anonymous_actor(request: Request) -> Actor:
    """The caller of a public route (register, login), as the audit log records it."""
    return Actor(
        org_id=None,
        user_id=None,
        ip_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


async def _principal(request: Request) -> Principal:
    # Reads the header itself: a nested security dependency (HTTPBearer) costs FastAPI about a
    # third of an authenticated request. app.py declares the bearer scheme in OpenAPI instead.
    return authenticate_bearer(
        get_database(request),
        bearer_token(request.headers.get("authorization")),
        secret=request.app.state.jwt_secret,
        now=datetime.now(UTC),
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


CurrentPrincipal = Annotated[Principal, Depends(_principal)]
AnonymousActor = Annotated[Actor, Depends(_anonymous_actor)]


def _requires(action: Action) -> Callable[[Request], Awaitable[Principal]]:
    # async and flat, like every dependency here: a sync one costs a thread hop per request, a
    # nested one another pass of FastAPI's dependency solver.
    async def dependency(request: Request) -> Principal:
        principal = await _principal(request)
        principal.require(action)
        return principal

    _AUTHENTICATING.add(dependency)
    return dependency


_AUTHENTICATING: set[Callable[..., Awaitable[Principal]]] = {_principal}


def is_authenticated(dependant: Dependant) -> bool:
    """Whether a route's dependencies identify the caller (for the OpenAPI security declaration)."""
    return any(
        dependency.call in _AUTHENTICATING or is_authenticated(dependency) for dependency in dependant.dependencies
    )


RequireWrite = Annotated[Principal, Depends(_requires(Action.WRITE))]
RequireAuditReader = Annotated[Principal, Depends(_requires(Action.READ_AUDIT))]
RequireInviter = Annotated[Principal, Depends(_requires(Action.INVITE))]
