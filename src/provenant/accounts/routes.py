"""Register, log in, who am I, log out; what the sign-in page offers; password reset.

argon2 takes tens of milliseconds of CPU by design: register and login hash or check the password
in a worker thread (provenant.accounts.passwords) before their transaction begins.
"""

from functools import cache

from fastapi import APIRouter, BackgroundTasks, Request, Response, status

from provenant.accounts import password_reset, passwords, service
from provenant.accounts.schemas import (
    AuthConfig,
    AuthResult,
    ForgotPassword,
    LoginRequest,
    Me,
    Message,
    MfaChallengeRead,
    PasswordChange,
    PasswordReset,
    PasswordResetDone,
    PermissionsRead,
    RegisterRequest,
)
from provenant.auth.authenticate import bearer_token, jwt_claims
from provenant.auth.deps import (
    AnonymousActor,
    CallerBeforeTwoFactor,
    PersonBeforeTwoFactor,
    SignedInPerson,
    attempt_limiter,
)
from provenant.auth.principal import Principal
from provenant.auth.roles import NO_PERMISSIONS, Access, Role, permissions
from provenant.config import Settings
from provenant.lean_route import LeanRoute
from provenant.link_origin import LinkOrigin
from provenant.sign_in import domains as sso_domains
from provenant.unit_of_work import DatabaseDep, SessionDep

router = APIRouter(prefix="/api/auth", tags=["auth"], route_class=LeanRoute)


def _result(signed_in: service.SignedIn) -> AuthResult:
    return AuthResult.model_validate(signed_in)


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=AuthResult)
async def register(body: RegisterRequest, session: SessionDep, actor: AnonymousActor, request: Request) -> AuthResult:
    """Create an organization and its first OWNER, and sign them in."""
    await attempt_limiter(request).count_registration(actor.ip_address)  # before argon2's work, whatever follows
    settings: Settings = request.app.state.settings
    return _result(
        service.register(
            session,
            actor,
            signup_open=settings.signup == "open",
            name=body.name,
            email=body.email,
            password_hash=await passwords.hash_password(body.password),
            org_name=body.org_name,
            org_slug=body.org_slug,
            secret=request.app.state.jwt_secret,
        )
    )


@router.get("/config", response_model=AuthConfig)
async def auth_config(session: SessionDep, request: Request) -> AuthConfig:
    """What the sign-in page may offer: registration, password reset (when email is configured), single
    sign-on (when an org has it), Sign in with GitHub (when configured)."""
    settings: Settings = request.app.state.settings
    return AuthConfig(
        signup=settings.signup,
        password_reset=settings.email_enabled,
        sso=sso_domains.any_configured(session),
        github=settings.github_enabled,
    )


@router.post("/login", response_model=AuthResult | MfaChallengeRead)
async def login(
    body: LoginRequest, database: DatabaseDep, session: SessionDep, actor: AnonymousActor, request: Request
) -> AuthResult | MfaChallengeRead:
    """``{token, user, org}``; for an account with two-factor sign-in on, ``{mfaRequired, mfaToken, methods}``
    instead, and ``POST /api/auth/login/2fa`` finishes the sign-in with a code."""
    signed_in = await service.login(
        database,
        session,
        actor,
        attempt_limiter(request),
        email=body.email,
        password=body.password,
        secret=request.app.state.jwt_secret,
    )
    if isinstance(signed_in, service.MfaChallenge):
        return MfaChallengeRead.model_validate(signed_in)
    return _result(signed_in)


def me_of(caller: Principal) -> Me:
    return Me(
        id=caller.user_id,
        name=caller.name,
        email=caller.email,
        role=caller.role,
        org_id=caller.org_id,
        org={"id": caller.org_id, "name": caller.org_name, "slug": caller.org_slug},
        auth_method=caller.auth_method,
        api_key={"id": caller.api_key_id, "name": caller.api_key_name} if caller.api_key_id else None,
        two_factor=caller.two_factor,
        two_factor_required=caller.org_requires_two_factor,
        permissions=_permissions_of(caller),
    )


def _permissions_of(caller: Principal) -> PermissionsRead:
    # Held to the two-factor sign-in its org requires, a person may do nothing but turn it on (auth.deps).
    if caller.lacks_required_two_factor:
        return _permissions_read(None, None, in_person=True)
    return _permissions_read(caller.role, caller.access, in_person=caller.api_key_id is None)


@cache  # the route every SDK calls to check its key: validated once per kind of caller (13 kinds), not per call
def _permissions_read(role: Role | None, access: Access | None, *, in_person: bool) -> PermissionsRead:
    if role is None or access is None:
        return PermissionsRead.model_validate(NO_PERMISSIONS)
    return PermissionsRead.model_validate(permissions(role, access, in_person=in_person))


@router.get("/me", response_model=Me, response_model_exclude_none=True)
async def me(caller: CallerBeforeTwoFactor) -> Response:
    # Serialised here, once: returning the model would have FastAPI validate it again first, and
    # this is the route every SDK calls to check its key.
    body = me_of(caller).model_dump_json(by_alias=True, exclude_none=True)
    return Response(body, media_type="application/json")


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(session: SessionDep, caller: CallerBeforeTwoFactor, request: Request) -> Response:
    """Ends the JWT it is called with; with an API key, only records the call (keys are revoked one by one)."""
    token = None
    if caller.api_key_id is None:
        bearer = bearer_token(request.headers.get("authorization")) or ""
        token = jwt_claims(bearer, secret=request.app.state.jwt_secret)
    service.logout(session, caller, token=token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_all(session: SessionDep, caller: PersonBeforeTwoFactor) -> Response:
    """Ends every JWT of the caller issued until now, this one included."""
    service.logout_all(session, caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/password", response_model=AuthResult)
async def change_password(
    body: PasswordChange, database: DatabaseDep, session: SessionDep, caller: SignedInPerson, request: Request
) -> AuthResult:
    """Changes the caller's password and ends every older JWT of theirs; answers with a fresh one."""
    return _result(
        await service.change_password(
            database,
            session,
            caller,
            attempt_limiter(request),
            current_password=body.current_password,
            new_password=body.new_password,
            secret=request.app.state.jwt_secret,
        )
    )


@router.post("/forgot-password", response_model=Message)
async def forgot_password(
    body: ForgotPassword,
    database: DatabaseDep,
    session: SessionDep,
    actor: AnonymousActor,
    request: Request,
    origin: LinkOrigin,
    background: BackgroundTasks,
) -> Message:
    """The same answer, after the same work, whether or not the email has an account; when it has and email is
    configured, a reset link is emailed (issued after the answer is sent). Limited like sign-ins (429
    ``too_many_attempts``)."""
    account = await password_reset.request_reset(session, actor, attempt_limiter(request), email=body.email)
    background.add_task(password_reset.email_reset_link, database, account, link_origin=origin)
    return Message(message=password_reset.REQUESTED_MESSAGE)


@router.post("/reset-password", response_model=PasswordResetDone)
async def reset_password(
    body: PasswordReset, database: DatabaseDep, session: SessionDep, actor: AnonymousActor, request: Request
) -> PasswordResetDone:
    """Sets a new password with a reset link's token and signs in; every older JWT of the user answers
    ``token_revoked``. 400 ``invalid_reset_token`` for a token unknown, used, replaced or expired."""
    password_reset.check_token(database, body.token)
    signed_in = password_reset.reset_password(
        session,
        actor,
        token=body.token,
        password_hash=await passwords.hash_password(body.password),
        secret=request.app.state.jwt_secret,
    )
    return PasswordResetDone.model_validate(
        {
            "message": password_reset.RESET_MESSAGE,
            "token": signed_in.token,
            "user": signed_in.user,
            "org": signed_in.org,
        }
    )
