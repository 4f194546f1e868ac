"""The Team section of the contract, and the two public invitation routes of its Auth section.

``accept_invitation`` hashes a new password or checks an existing one in a worker thread, before
its transaction begins (see provenant.accounts.passwords).
"""

from fastapi import APIRouter, Request, Response, status

from provenant.accounts.password_reset import IssuedReset
from provenant.accounts.schemas import AuthResult, PasswordResetIssued
from provenant.auth.deps import (
    AnonymousActor,
    RequireInvitationReader,
    RequireInviter,
    RequireMemberRemover,
    RequireRead,
    RequireResetIssuer,
    RequireRoleChanger,
    attempt_limiter,
)
from provenant.auth.roles import Role
from provenant.link_origin import LinkOrigin
from provenant.models import Invitation, User
from provenant.schemas import Success
from provenant.team import accepting, invitations, members
from provenant.team.schemas import (
    InvitationAcceptance,
    InvitationCreate,
    InvitationCreated,
    InvitationPreview,
    InvitationRead,
    MemberRead,
    RoleChange,
)
from provenant.unit_of_work import DatabaseDep, SessionDep

router = APIRouter(prefix="/api/org", tags=["team"])
invitation_links_router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.get("/members", response_model=list[MemberRead])
async def list_members(session: SessionDep, caller: RequireRead) -> list[User]:
    return members.list_members(session, caller)


@router.patch("/members/{user_id}/role", response_model=MemberRead)
async def change_member_role(session: SessionDep, caller: RequireRoleChanger, user_id: str, body: RoleChange) -> User:
    """OWNER: any role; ADMIN: MEMBER ↔ VIEWER of non-admins only. The org always keeps an OWNER (409)."""
    return members.change_role(session, caller, user_id=user_id, role=body.role)


@router.delete("/members/{user_id}", response_model=Success)
async def remove_member(session: SessionDep, caller: RequireMemberRemover, user_id: str) -> Success:
    """OWNER and ADMIN (who cannot remove an OWNER or an ADMIN); nobody removes themselves. Access ends at
    once: the member's JWT answers 401, their keys 401 ``api_key_owner_removed``."""
    members.remove_member(session, caller, user_id=user_id)
    return Success()


@router.post(
    "/members/{user_id}/password-reset", status_code=status.HTTP_201_CREATED, response_model=PasswordResetIssued
)
async def issue_password_reset(
    session: SessionDep, caller: RequireResetIssuer, user_id: str, origin: LinkOrigin
) -> IssuedReset:
    """A reset link for a member, shown once, for installs without email (the member is emailed that it
    was issued when email is configured). OWNER: anyone else; ADMIN: MEMBERs and VIEWERs; a person signed in,
    not an API key. It works once, for an hour, and ends the member's older links; using it ends the member's
    sessions."""
    return members.issue_password_reset(session, caller, user_id=user_id, link_origin=origin)


@router.get("/invitations", response_model=list[InvitationRead])
async def list_invitations(session: SessionDep, caller: RequireInvitationReader) -> list[Invitation]:
    """Pending invitations, newest first."""
    return invitations.list_invitations(session, caller)


@router.post("/invitations", status_code=status.HTTP_201_CREATED, response_model=InvitationCreated)
async def invite(
    session: SessionDep, caller: RequireInviter, body: InvitationCreate, origin: LinkOrigin
) -> invitations.IssuedInvitation:
    """The only response that carries the invite link. It works once, for 7 days."""
    return invitations.invite(session, caller, email=body.email, role=Role(body.role), link_origin=origin)


@router.delete("/invitations/{invitation_id}", response_model=Success)
async def cancel_invitation(session: SessionDep, caller: RequireInviter, invitation_id: str) -> Success:
    """The link stops working at once."""
    invitations.cancel_invitation(session, caller, invitation_id=invitation_id)
    return Success()


@invitation_links_router.get("/invitations/{token}", response_model=InvitationPreview)
async def preview_invitation(session: SessionDep, token: str) -> accepting.InvitationPreview:
    """404 ``not_found`` for an unknown token; 410 ``invitation_used``, ``invitation_cancelled`` or
    ``invitation_expired``."""
    return accepting.preview_invitation(session, token=token)


@invitation_links_router.post(
    "/accept-invitation",
    status_code=status.HTTP_201_CREATED,
    response_model=AuthResult,
    responses={200: {"model": AuthResult, "description": "An existing account joined with its password"}},
)
async def accept_invitation(
    database: DatabaseDep,
    session: SessionDep,
    actor: AnonymousActor,
    body: InvitationAcceptance,
    request: Request,
    response: Response,
) -> AuthResult:
    """201 with a new account, or 200 when the invited email already has one and ``password`` is its
    password (the account then moves to this org; 409 ``last_owner`` if its old org would lose its last
    OWNER). A wrong password answers 401 ``invalid_credentials`` and changes nothing. An account with two-factor
    sign-in on also needs ``code`` (401 ``two_factor_code_required`` without it, ``invalid_code`` when wrong)."""
    accepted = await accepting.accept_invitation(
        database,
        session,
        actor,
        attempt_limiter(request),
        token=body.token,
        name=body.name,
        password=body.password,
        code=body.code,
        secret=request.app.state.jwt_secret,
        key=request.app.state.encryption_key,
    )
    response.status_code = status.HTTP_201_CREATED if accepted.new_account else status.HTTP_200_OK
    return AuthResult.model_validate(accepted.signed_in)
