"""Pure functions for the secrets a caller presents: JWTs, ``pk_live_`` keys and one-time tokens.

Passwords are the accounts package's (``provenant.accounts.passwords``)."""

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

JWT_ALGORITHM = "HS256"
JWT_LIFETIME_SECONDS = 7 * 24 * 3600
API_KEY_PREFIX = "pk_live_"
_API_KEY_PATTERN = re.compile(r"pk_live_[0-9a-f]{32}")


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret (API key, invitation token): enough, and fast to look up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_hex(16)


def is_well_formed_api_key(token: str) -> bool:
    return _API_KEY_PATTERN.fullmatch(token) is not None


def api_key_display_prefix(key: str) -> str:
    """The first 8 hex characters, shown as ``pk_live_a1b2c3d4…``."""
    return key[len(API_KEY_PREFIX) : len(API_KEY_PREFIX) + 8]


def generate_token() -> str:
    """A one-time URL-safe token of 32 random bytes (invitations)."""
    return secrets.token_urlsafe(32)


# --- JWT ---------------------------------------------------------------------------------------


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


@dataclass(frozen=True, slots=True)
class JwtClaims:
    user_id: str
    issued_at: int
    expires_at: int
    # ``jti``: what POST /api/auth/logout puts on the denylist.
    token_id: str
    # ``gen``: the user's token generation when it was issued; logout-all and a password change
    # move the user's generation on, which ends every token issued before.
    generation: int


_MAX_GENERATION = 2**31 - 1  # the column is a 32-bit integer
# Every claim a token of this server carries, and no other. A claim it does not read could carry a limit its
# signer meant (``nbf``: not before; ``aud``, ``scope``) that would pass unchecked, so a token holding one is
# refused rather than half-understood. This server never issues one; a version that adds a claim must be
# deployed to every process sharing the secret (PROVENANT_JWT_SECRET) before any of them issues it.
_CLAIMS = ("sub", "iat", "exp", "jti", "gen")


def issue_jwt(user_id: str, secret: str, now: datetime, *, generation: int = 0) -> str:
    iat = int(now.timestamp())
    claims = {
        "sub": user_id,
        "iat": iat,
        "exp": iat + JWT_LIFETIME_SECONDS,
        "jti": secrets.token_urlsafe(16),
        "gen": generation,
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


# Several replicas behind a load balancer each issue and verify tokens by their own clock: a token issued by a
# machine whose clock runs ahead must still work at once on the others (NTP keeps them far closer than this), while
# one claiming to be issued further in the future is refused. Revocation does not read ``iat`` (see ``gen``).
CLOCK_SKEW_SECONDS = 60

# The one header this server signs, as the encoded first part of every token it issues (PyJWT writes it with
# sorted keys and no spaces): a token is verified against no other, so no algorithm but HS256 (``none``, or RS256
# with the secret read as a public key) is ever considered, nor a header field this server never sets. Compared
# as it is sent, it needs no decoding: a token this server signed carries exactly these characters.
_JWT_HEADER = jwt.encode({}, "k" * 32, algorithm=JWT_ALGORITHM).partition(".")[0]


def decode_jwt(token: str, secret: str) -> JwtClaims:
    """The claims of a token this server signed, checked strictly.

    Verified here rather than by PyJWT's ``decode``, which issues them: every request with a JWT passes here,
    and PyJWT's general path (choosing the algorithm from the header, checking on every call that the secret
    is not a PEM key, merging options) cost about as much server CPU as the rest of ``GET /api/auth/me``
    (docs/performance.md). What is checked is the same or stricter: the HMAC-SHA256 signature first, compared
    in constant time, before anything of the token is parsed; then the exact header above; then each claim,
    which must have exactly the type and range this server issues (PyJWT reads ``exp`` and ``iat`` with
    ``int()``, so ``"1900000000"``, ``1.9e9`` and ``1e20`` would pass it). A token without ``jti`` (issued
    before tokens could be revoked) is refused rather than left unrevocable, and so is one with a claim this
    server never issues (``_CLAIMS``).
    """
    try:
        header, payload, signature = token.split(".")
        expected = hmac.digest(secret.encode(), f"{header}.{payload}".encode("ascii"), "sha256")
        if not hmac.compare_digest(expected, _base64url(signature)):
            raise TokenInvalid
        if header != _JWT_HEADER:
            raise TokenInvalid
        claims = json.loads(_base64url(payload))
    except ValueError as exc:  # not three parts, not base64url, not ASCII, not JSON
        raise TokenInvalid from exc
    checked = _checked_claims(claims)
    now = datetime.now(UTC).timestamp()
    if checked.issued_at > now + CLOCK_SKEW_SECONDS:
        raise TokenInvalid  # issued in the future
    if checked.expires_at <= now:
        raise TokenExpired
    return checked


def _base64url(text: str) -> bytes:
    """RFC 7515's base64url without padding; ValueError for any character outside its alphabet."""
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _is_int(value: Any) -> bool:
    return type(value) is int  # not bool, not float


def _is_short_text(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64


def _checked_claims(claims: Any) -> JwtClaims:
    if not isinstance(claims, dict) or claims.keys() != set(_CLAIMS):
        raise TokenInvalid  # a claim missing, or one this server never issues
    sub, iat, exp, jti, gen = (claims[name] for name in _CLAIMS)
    if not (_is_short_text(sub) and _is_short_text(jti) and _is_int(iat) and _is_int(exp) and _is_int(gen)):
        raise TokenInvalid
    if not (0 < iat < exp <= iat + JWT_LIFETIME_SECONDS and 0 <= gen <= _MAX_GENERATION):
        raise TokenInvalid
    return JwtClaims(user_id=sub, issued_at=iat, expires_at=exp, token_id=jti, generation=gen)


# --- the token between a right password and the second factor ----------------------------------

MFA_TOKEN_LIFETIME_SECONDS = 5 * 60
_MFA_AUDIENCE = "provenant:mfa"


def _mfa_signing_key(secret: str) -> bytes:
    # A key of its own, derived from the JWT secret: a session JWT never verifies as an mfaToken, nor an
    # mfaToken as a session JWT (which decode_jwt also refuses for its audience), whatever a library does.
    return hmac.new(secret.encode(), b"provenant mfa token", hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class MfaClaims:
    user_id: str
    token_id: str
    expires_at: int
    generation: int


def issue_mfa_token(user_id: str, secret: str, now: datetime, *, generation: int) -> str:
    iat = int(now.timestamp())
    claims = {
        "sub": user_id,
        "aud": _MFA_AUDIENCE,
        "iat": iat,
        "exp": iat + MFA_TOKEN_LIFETIME_SECONDS,
        "jti": secrets.token_urlsafe(16),
        "gen": generation,
    }
    return jwt.encode(claims, _mfa_signing_key(secret), algorithm=JWT_ALGORITHM)


def decode_mfa_token(token: str, secret: str) -> MfaClaims:
    """The claims of an unexpired mfaToken this server issued; TokenInvalid for anything else."""
    try:
        claims = jwt.decode(
            token,
            _mfa_signing_key(secret),
            algorithms=[JWT_ALGORITHM],
            audience=_MFA_AUDIENCE,
            # iat is checked below, allowing for another replica's clock as session JWTs do; exp stays exact.
            options={"require": ["sub", "aud", "iat", "exp", "jti", "gen"], "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise TokenInvalid from exc
    sub, iat, exp, jti, gen = (claims[name] for name in ("sub", "iat", "exp", "jti", "gen"))
    if not (_is_short_text(sub) and _is_short_text(jti) and _is_int(iat) and _is_int(exp) and _is_int(gen)):
        raise TokenInvalid
    if not 0 < iat < exp <= iat + MFA_TOKEN_LIFETIME_SECONDS:
        raise TokenInvalid
    if iat > datetime.now(UTC).timestamp() + CLOCK_SKEW_SECONDS:
        raise TokenInvalid  # issued in the future
    return MfaClaims(user_id=sub, token_id=jti, expires_at=exp, generation=gen)


def load_or_create_secret_file(path: Path, make: Callable[[], str]) -> str:
    """The text kept in ``path`` (0600), made once by ``make`` so that restarts keep it.

    It is written whole to a private temporary file, then linked into place: processes starting
    together never read a half-written file, and exactly one value wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)  # fails if another process got there first: theirs wins
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


def load_or_create_jwt_secret(data_dir: Path) -> str:
    """The secret kept in ``data_dir/jwt-secret``, created once so restarts keep sessions."""
    path = data_dir / "jwt-secret"
    secret = load_or_create_secret_file(path, lambda: secrets.token_urlsafe(48))
    if len(secret) < 32:
        raise RuntimeError(f"{path} is too short to be a signing secret; delete it to regenerate")
    return secret
