"""Single sign-on and Sign in with GitHub: the org's configuration (OWNER), the redirects to the provider and
back, and the one-time code the dashboard exchanges for a session.

The callbacks always answer a redirect to the dashboard's ``/sso-complete``: with ``?code=`` when someone was
signed in, with ``?error=<reason>`` (sign_in.refusals) when not; never a JWT in a URL, never a JSON error.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from provenant.accounts.schemas import AuthResult, MfaChallengeRead
from provenant.accounts.service import MfaChallenge, SignedIn
from provenant.auth.deps import AnonymousActor, RequireOrgSettingsManager
from provenant.auth.encryption import EncryptionKey
from provenant.auth.roles import Role
from provenant.config import Settings
from provenant.db import Database, is_busy, is_unreachable
from provenant.errors import NotFound
from provenant.link_origin import LinkOrigin
from provenant.models import SsoConfig
from provenant.oidc.tokens import IssuerKeys
from provenant.sign_in import accounts, codes, domains, github, oidc_flow, sso_config
from provenant.sign_in.pending import LIFETIME_SECONDS, Pending, seal, unseal
from provenant.sign_in.refusals import SignInRefused, complete_url
from provenant.sign_in.schemas import (
    CodeExchange,
    DiscoveryCheck,
    DiscoveryRead,
    SsoConfigRead,
    SsoConfigUpdate,
)
from provenant.unit_of_work import DatabaseDep, SessionDep

router = APIRouter(prefix="/api/auth", tags=["auth"])
org_router = APIRouter(prefix="/api/org", tags=["org settings"])

SSO_COOKIE, SSO_PURPOSE = "provenant_sso", "sso-sign-in"
GITHUB_COOKIE, GITHUB_PURPOSE = "provenant_github", "github-sign-in"
# No length limit here: a callback answers a redirect to the dashboard whatever it is sent, never a 422 (an
# overlong state or code simply matches nothing).
_Param = str | None


def _key(request: Request) -> EncryptionKey:
    key: EncryptionKey = request.app.state.encryption_key
    return key


def _issuer_keys(request: Request) -> IssuerKeys:
    keys: IssuerKeys = request.app.state.issuer_keys
    return keys


def _to_provider(
    url: str, pending: Pending, *, cookie: str, purpose: str, path: str, request: Request, origin: str
) -> RedirectResponse:
    response = RedirectResponse(url, status_code=status.HTTP_302_FOUND)
    response.set_cookie(
        cookie,
        seal(_key(request), pending, purpose=purpose),
        max_age=LIFETIME_SECONDS,
        path=path,
        secure=origin.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return response


def _to_dashboard(*, cookie: str, path: str, code: str | None = None, error: str | None = None) -> RedirectResponse:
    response = RedirectResponse(complete_url(code=code, error=error), status_code=status.HTTP_302_FOUND)
    response.delete_cookie(cookie, path=path, httponly=True, samesite="lax")  # one callback per start
    return response


@contextmanager
def _writing(database: Database) -> Iterator[Session]:
    """The callbacks' writes, in a transaction of their own: a GET request's session is read-only (autocommit,
    unit_of_work). A refusal raised inside leaves nothing behind; a busy database is a reason to try again,
    shown on the dashboard's page, not a JSON 503 in the middle of a sign-in."""
    try:
        with database.transaction() as session:
            yield session
    except SQLAlchemyError as error:
        if is_busy(error) or is_unreachable(error):
            raise SignInRefused("try_again") from None
        raise


def _signed_in_answer(result: SignedIn | MfaChallenge) -> AuthResult | MfaChallengeRead:
    if isinstance(result, MfaChallenge):
        return MfaChallengeRead.model_validate(result)
    return AuthResult.model_validate(result)


# --- the org's configuration ---------------------------------------------------------------------


def _read(settings: sso_config.SsoSettings, origin: str) -> SsoConfigRead:
    return SsoConfigRead(**asdict(settings), redirect_uri=origin + oidc_flow.CALLBACK_PATH)


@org_router.get("/sso", response_model=SsoConfigRead)
async def read_sso(session: SessionDep, caller: RequireOrgSettingsManager, origin: LinkOrigin) -> SsoConfigRead:
    """404 ``sso_not_configured`` when the org has none. OWNER, signed in."""
    return _read(sso_config.read(session, caller), origin)


@org_router.put("/sso", response_model=SsoConfigRead)
async def save_sso(
    body: SsoConfigUpdate, session: SessionDep, caller: RequireOrgSettingsManager, request: Request, origin: LinkOrigin
) -> SsoConfigRead:
    """The provider's discovery document is fetched and checked first (422 naming ``issuer``); a domain another
    org claims: 409 ``domain_taken``. The client secret is stored encrypted and never shown again."""
    domain_list = sso_config.normalise_domains(body.domains)
    discovery = await sso_config.discover(_issuer_keys(request).rules, body.issuer)
    saved = sso_config.save(
        session,
        caller,
        _key(request),
        discovery,
        client_id=body.client_id,
        client_secret=body.client_secret,
        domains=domain_list,
        default_role=Role(body.default_role),
        enforce=body.enforce,
    )
    return _read(saved, origin)


@org_router.delete("/sso", status_code=status.HTTP_204_NO_CONTENT)
async def delete_sso(session: SessionDep, caller: RequireOrgSettingsManager) -> Response:
    sso_config.remove(session, caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@org_router.post("/sso/discovery", response_model=DiscoveryRead)
async def check_discovery(body: DiscoveryCheck, caller: RequireOrgSettingsManager, request: Request) -> object:
    """What "Test discovery" shows: the endpoints the issuer's discovery document names, or 422 naming
    ``issuer`` with what is wrong. Saves nothing."""
    return await sso_config.discover(_issuer_keys(request).rules, body.issuer)


# --- single sign-on --------------------------------------------------------------------------------


@router.get("/sso/start", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
async def sso_start(
    session: SessionDep, request: Request, origin: LinkOrigin, email: Annotated[str, Query(max_length=320)]
) -> RedirectResponse:
    """302 to the provider of the org that claims the email's domain; 404 ``sso_not_configured`` when none does."""
    config = domains.claiming_config(session, email)
    if config is None:
        raise NotFound("Single sign-on for this email's domain", code="sso_not_configured")
    pending = Pending.new(org_id=config.org_id, issuer=config.issuer)
    url = oidc_flow.authorization_url(config, pending, redirect_uri=origin + oidc_flow.CALLBACK_PATH, email=email)
    return _to_provider(
        url,
        pending,
        cookie=SSO_COOKIE,
        purpose=SSO_PURPOSE,
        path=oidc_flow.CALLBACK_PATH,
        request=request,
        origin=origin,
    )


@router.get("/sso/callback", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
async def sso_callback(
    database: DatabaseDep,
    actor: AnonymousActor,
    request: Request,
    origin: LinkOrigin,
    code: _Param = None,
    state: _Param = None,
    error: _Param = None,
) -> RedirectResponse:
    """302 to ``/sso-complete?code=`` once the provider's answer is verified, or ``?error=<reason>``."""

    def refused(reason: str) -> RedirectResponse:
        return _to_dashboard(cookie=SSO_COOKIE, path=oidc_flow.CALLBACK_PATH, error=reason)

    pending = unseal(_key(request), request.cookies.get(SSO_COOKIE), state=state, purpose=SSO_PURPOSE)
    if pending is None:
        return refused("invalid_state")
    if error is not None or not code:
        return refused("cancelled" if error == "access_denied" else "provider_error")
    with database.transaction(writes=False) as reading:  # not held while the provider is asked
        config = reading.get(SsoConfig, pending.org_id) if pending.org_id else None
    if config is None or config.issuer != pending.issuer:
        return refused("sso_not_configured")
    try:
        person = await oidc_flow.finish(
            _issuer_keys(request).rules,
            _issuer_keys(request),
            _key(request),
            config,
            pending,
            code=code,
            redirect_uri=origin + oidc_flow.CALLBACK_PATH,
        )
        with _writing(database) as session:
            user = accounts.sso_member(session, actor, config, email=person.email, name=person.name)
            one_time = codes.issue(session, user, method="sso", now=datetime.now(UTC))
    except SignInRefused as refusal:
        return refused(refusal.reason)
    return _to_dashboard(cookie=SSO_COOKIE, path=oidc_flow.CALLBACK_PATH, code=one_time)


@router.post("/sso/exchange", response_model=AuthResult | MfaChallengeRead)
async def exchange_code(
    body: CodeExchange, session: SessionDep, actor: AnonymousActor, request: Request
) -> AuthResult | MfaChallengeRead:
    """``{token, user, org}`` for a one-time code from ``/sso-complete``, once, within 60 s (400
    ``invalid_sign_in_code`` otherwise); for an account with two-factor sign-in on, ``{mfaRequired, mfaToken,
    methods}`` as the password sign-in answers, and ``POST /api/auth/login/2fa`` finishes."""
    return _signed_in_answer(codes.exchange(session, actor, code=body.code, secret=request.app.state.jwt_secret))


# --- GitHub ------------------------------------------------------------------------------------------


def _github_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    if not settings.github_enabled:
        raise NotFound("Sign in with GitHub", code="github_not_configured")
    return settings


@router.get("/github", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
async def github_start(request: Request, origin: LinkOrigin) -> RedirectResponse:
    """302 to GitHub's authorize page; 404 ``github_not_configured`` without PROVENANT_GITHUB_CLIENT_ID/SECRET."""
    settings = _github_settings(request)
    pending = Pending.new()
    url = github.authorization_url(settings, pending, redirect_uri=origin + github.CALLBACK_PATH)
    return _to_provider(
        url,
        pending,
        cookie=GITHUB_COOKIE,
        purpose=GITHUB_PURPOSE,
        path=github.CALLBACK_PATH,
        request=request,
        origin=origin,
    )


@router.get("/github/callback", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
async def github_callback(
    database: DatabaseDep,
    actor: AnonymousActor,
    request: Request,
    origin: LinkOrigin,
    code: _Param = None,
    state: _Param = None,
    error: _Param = None,
) -> RedirectResponse:
    """302 to ``/sso-complete?code=`` for the GitHub user's account, or ``?error=<reason>``."""

    def refused(reason: str) -> RedirectResponse:
        return _to_dashboard(cookie=GITHUB_COOKIE, path=github.CALLBACK_PATH, error=reason)

    settings: Settings = request.app.state.settings
    if not settings.github_enabled:
        return refused("github_not_configured")
    pending = unseal(_key(request), request.cookies.get(GITHUB_COOKIE), state=state, purpose=GITHUB_PURPOSE)
    if pending is None:
        return refused("invalid_state")
    if error is not None or not code:
        return refused("cancelled" if error == "access_denied" else "provider_error")
    try:
        person = await github.finish(settings, pending, code=code, redirect_uri=origin + github.CALLBACK_PATH)
        with _writing(database) as session:
            user = accounts.github_account(
                session,
                actor,
                github_id=person.id,
                login=person.login,
                name=person.name,
                email=person.email,
                signup_open=settings.signup == "open",
            )
            one_time = codes.issue(session, user, method="github", now=datetime.now(UTC))
    except SignInRefused as refusal:
        return refused(refusal.reason)
    return _to_dashboard(cookie=GITHUB_COOKIE, path=github.CALLBACK_PATH, code=one_time)
