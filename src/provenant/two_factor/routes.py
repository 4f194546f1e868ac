"""The Two-factor sign-in section of the contract: set up, confirm, turn off, new recovery codes, and the
second step of a sign-in. A person whose org requires two-factor sign-in can call these before turning it on."""

from fastapi import APIRouter, Request, Response, status

from provenant.accounts.schemas import AuthResult
from provenant.auth.deps import AnonymousActor, PersonBeforeTwoFactor, attempt_limiter
from provenant.two_factor import service
from provenant.two_factor.schemas import (
    CodeConfirmation,
    PasswordConfirmation,
    RecoveryCodesRead,
    SecondStep,
    TotpSetupRead,
)
from provenant.unit_of_work import DatabaseDep, SessionDep

router = APIRouter(prefix="/api/auth", tags=["two-factor"])


@router.post("/2fa/totp", status_code=status.HTTP_201_CREATED, response_model=TotpSetupRead)
async def begin_totp(session: SessionDep, caller: PersonBeforeTwoFactor, request: Request) -> service.TotpSetup:
    """A new secret for an authenticator app, with its ``otpauth://`` URI and QR code; not in use until
    confirmed. 409 ``two_factor_already_enabled`` while two-factor sign-in is on."""
    return service.begin_totp(session, caller, key=request.app.state.encryption_key)


@router.post("/2fa/totp/confirm", response_model=RecoveryCodesRead)
async def confirm_totp(
    session: SessionDep, caller: PersonBeforeTwoFactor, body: CodeConfirmation, request: Request
) -> RecoveryCodesRead:
    """Turns two-factor sign-in on with a current code; answers the 10 recovery codes, shown only now."""
    recovery_codes = service.confirm_totp(session, caller, key=request.app.state.encryption_key, code=body.code)
    return RecoveryCodesRead(recovery_codes=recovery_codes)


@router.delete("/2fa", status_code=status.HTTP_204_NO_CONTENT)
async def turn_off(
    database: DatabaseDep,
    session: SessionDep,
    caller: PersonBeforeTwoFactor,
    body: PasswordConfirmation,
    request: Request,
) -> Response:
    """Turns two-factor sign-in off; 403 ``invalid_credentials`` for a wrong password."""
    await service.turn_off(database, session, caller, attempt_limiter(request), password=body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/2fa/recovery-codes", response_model=RecoveryCodesRead)
async def regenerate_recovery_codes(
    database: DatabaseDep,
    session: SessionDep,
    caller: PersonBeforeTwoFactor,
    body: PasswordConfirmation,
    request: Request,
) -> RecoveryCodesRead:
    """A new set of 10 recovery codes, shown only now; the old set stops working."""
    recovery_codes = await service.regenerate_recovery_codes(
        database,
        session,
        caller,
        attempt_limiter(request),
        password=body.password,
        key=request.app.state.encryption_key,
    )
    return RecoveryCodesRead(recovery_codes=recovery_codes)


@router.post("/login/2fa", response_model=AuthResult)
async def finish_sign_in(
    database: DatabaseDep, session: SessionDep, actor: AnonymousActor, body: SecondStep, request: Request
) -> AuthResult:
    """Finishes a sign-in with the mfaToken of ``POST /api/auth/login`` and a current code or an unused
    recovery code: 401 ``invalid_code`` for a wrong one, ``invalid_mfa_token`` once the token is spent."""
    signed_in = await service.finish_sign_in(
        database,
        session,
        actor,
        attempt_limiter(request),
        mfa_token=body.mfa_token,
        code=body.code,
        secret=request.app.state.jwt_secret,
        key=request.app.state.encryption_key,
    )
    return AuthResult.model_validate(signed_in)
