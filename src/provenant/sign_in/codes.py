"""One-time sign-in codes: what a provider's callback hands the dashboard instead of a JWT.

A code is 32 random bytes, stored as its SHA-256 alone, bound to one user and org, and exchanged once
within a minute. The exchange is one UPDATE guarded by ``used_at IS NULL``: of any number of concurrent
exchanges of a code, the database lets exactly one through.

An account with two-factor sign-in on still gives its code: the provider vouched for the first factor (as
a password would), and the account's owner asked for a second. Signing in through a provider must not be
a way around it (a provider can be misconfigured, or a domain claimed by the wrong org), so the exchange
answers an mfaToken, as a right password does, and ``POST /api/auth/login/2fa`` finishes.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, update
from sqlalchemy.orm import Session

from provenant.accounts.service import MfaChallenge, SignedIn, sign_in
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth import security
from provenant.auth.principal import Actor
from provenant.errors import ProvenantError
from provenant.models import Org, SignInCode, User

CODE_LIFETIME = timedelta(seconds=60)


class InvalidSignInCode(ProvenantError):
    status_code = 400
    code = "invalid_sign_in_code"
    message = "This sign-in link was used already or has expired: sign in again."


def issue(session: Session, user: User, *, method: str, now: datetime) -> str:
    """A new code for ``user`` in their org; codes past their minute are swept as we go."""
    assert user.org_id is not None
    session.execute(delete(SignInCode).where(SignInCode.expires_at <= now - CODE_LIFETIME))
    code = security.generate_token()
    session.add(
        SignInCode(
            code_hash=security.hash_secret(code),
            user_id=user.id,
            org_id=user.org_id,
            method=method,
            expires_at=now + CODE_LIFETIME,
        )
    )
    return code


def exchange(session: Session, actor: Actor, *, code: str, secret: str) -> SignedIn | MfaChallenge:
    """The session the code stands for, once: 400 ``invalid_sign_in_code`` for a code unknown, used, expired,
    or whose user has left the org it was issued in since."""
    now = datetime.now(UTC)
    code_hash = security.hash_secret(code)
    used: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(SignInCode)
        .where(SignInCode.code_hash == code_hash, SignInCode.used_at.is_(None), SignInCode.expires_at > now)
        .values(used_at=now)
        .returning(SignInCode.user_id, SignInCode.org_id, SignInCode.method)
    )
    row = used.one_or_none()
    if row is None:
        raise InvalidSignInCode()
    user_id, org_id, method = row.user_id, row.org_id, row.method
    user = session.get(User, user_id)
    if user is None or user.org_id != org_id:
        raise InvalidSignInCode()
    if user.two_factor:
        return MfaChallenge(security.issue_mfa_token(user.id, secret, now, generation=user.token_generation))
    audit.record(
        session,
        actor,
        AuditAction.AUTH_LOGIN,
        resource_type="user",
        resource_id=user.id,
        after={"via": method},
        org_id=org_id,
        user_id=user.id,
    )
    return sign_in(user, session.get_one(Org, org_id), secret=secret)
