"""Pure functions for secrets: passwords, JWTs, ``pk_live_`` keys and one-time tokens."""

import contextlib
import hashlib
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

JWT_ALGORITHM = "HS256"
JWT_LIFETIME_SECONDS = 7 * 24 * 3600
API_KEY_PREFIX = "pk_live_"
_API_KEY_PATTERN = re.compile(r"pk_live_[0-9a-f]{32}")

_password_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory parameters


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _password_hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def dummy_password_hash() -> str:
    """A hash nobody knows the password of: unknown emails are verified against it."""
    return hash_password(secrets.token_urlsafe(32))


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


def issue_jwt(user_id: str, secret: str, now: datetime) -> str:
    iat = int(now.timestamp())
    return jwt.encode(
        {"sub": user_id, "iat": iat, "exp": iat + JWT_LIFETIME_SECONDS}, secret, algorithm=JWT_ALGORITHM
    )


def decode_jwt(token: str, secret: str) -> JwtClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired from exc
    except jwt.PyJWTError as exc:
        raise TokenInvalid from exc
    if not isinstance(claims["sub"], str):
        raise TokenInvalid
    return JwtClaims(user_id=claims["sub"], issued_at=int(claims["iat"]))


def load_or_create_jwt_secret(data_dir: Path) -> str:
    """The secret kept in ``data_dir/jwt-secret`` (0600), created once so restarts keep sessions.

    It is written whole to a private temporary file, then linked into place: processes starting
    together never read a half-written file, and exactly one secret wins.
    """
    path = data_dir / "jwt-secret"
    data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd, temporary = tempfile.mkstemp(dir=data_dir, prefix=".jwt-secret-")  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)  # fails if another process got there first: theirs wins
        finally:
            os.unlink(temporary)
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise RuntimeError(f"{path} is too short to be a signing secret; delete it to regenerate")
    return secret
