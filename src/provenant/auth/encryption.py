"""Secrets the server must read back (TOTP seeds; later, single sign-on client secrets), encrypted at rest.

AES-256-GCM with ``PROVENANT_ENCRYPTION_KEY`` (32 bytes, base64), or a key generated once into the data
directory when it is unset, like the JWT secret. Every value is bound to its ``purpose`` (such as
``totp-seed:<user id>``) as associated data: a ciphertext copied into another row, or used for another
purpose, does not decrypt. A value is stored as ``v1.<base64url of nonce + ciphertext + tag>`` so that a
later format (a rotated key) can be told apart.

``digest`` is a keyed hash (HMAC-SHA-256 under a key derived from the same key) for short random codes
that are only ever compared, never read back: recovery codes. With the database alone, not even a guess of
one can be checked offline.
"""

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from provenant.auth.security import load_or_create_secret_file

if TYPE_CHECKING:  # config reads its setting with parse_key, from here
    from provenant.config import Settings

KEY_BYTES = 32
_NONCE_BYTES = 12
_VERSION = "v1."
KEY_FILE = "encryption-key"
ADVICE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class DecryptionFailed(Exception):
    """A stored value that this key cannot open: the key changed, or the value was altered or moved."""


def parse_key(text: str) -> bytes:
    """32 bytes from base64 text (standard or URL-safe alphabet, padding optional); ValueError otherwise."""
    compact = text.strip().rstrip("=").replace("+", "-").replace("/", "_")
    raw = b""
    if compact and set(compact) <= _URLSAFE:  # b64decode would skip other characters silently
        try:
            raw = base64.urlsafe_b64decode(compact + "=" * (-len(compact) % 4))
        except (binascii.Error, ValueError):
            raw = b""
    if len(raw) != KEY_BYTES:
        raise ValueError(
            f"not a {KEY_BYTES}-byte key in base64; make one with: {ADVICE} "
            "(or unset it to have one generated into the data directory)"
        )
    return raw


@dataclass(frozen=True, slots=True)
class EncryptionKey:
    """The deployment's key; ``repr`` never shows it."""

    raw: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.raw) != KEY_BYTES:
            raise ValueError(f"an encryption key is {KEY_BYTES} bytes")

    def _subkey(self, name: str) -> bytes:
        # HKDF-Expand with one block is HMAC(key, info || 0x01): each use gets a key of its own.
        return hmac.new(self.raw, f"provenant {name}".encode() + b"\x01", hashlib.sha256).digest()


def load_or_create_key(data_dir: Path) -> EncryptionKey:
    """The key kept in ``data_dir/encryption-key`` (0600), created once. A file that holds no valid key
    stops the server: deleting it would make every value encrypted with it unreadable."""
    path = data_dir / KEY_FILE
    text = load_or_create_secret_file(path, lambda: secrets.token_urlsafe(KEY_BYTES))
    try:
        return EncryptionKey(parse_key(text))
    except ValueError:
        raise RuntimeError(
            f"{path} does not hold a {KEY_BYTES}-byte base64 key. Restore it from a backup: values encrypted "
            "with it (two-factor seeds) cannot be read without it"
        ) from None


def deployment_key(settings: "Settings") -> EncryptionKey:
    """``PROVENANT_ENCRYPTION_KEY`` when set (Settings has checked it), else the data directory's key."""
    if settings.encryption_key is not None:
        return EncryptionKey(parse_key(settings.encryption_key.get_secret_value()))
    return load_or_create_key(settings.data_dir)


def encrypt(key: EncryptionKey, plaintext: str, *, purpose: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key.raw).encrypt(nonce, plaintext.encode(), purpose.encode())
    return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(key: EncryptionKey, stored: str, *, purpose: str) -> str:
    if not stored.startswith(_VERSION):
        raise DecryptionFailed(f"an encrypted value for {purpose.split(':')[0]} is in an unknown format")
    try:
        blob = base64.urlsafe_b64decode(stored[len(_VERSION) :])
        opened = AESGCM(key.raw).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], purpose.encode())
    except (InvalidTag, binascii.Error, ValueError):
        raise DecryptionFailed(
            f"an encrypted value for {purpose.split(':')[0]} does not open with this PROVENANT_ENCRYPTION_KEY: "
            "is it the key the deployment has always used?"
        ) from None
    return opened.decode()


def digest(key: EncryptionKey, value: str, *, purpose: str) -> str:
    """A keyed hash of ``value`` for ``purpose``, hex: to store a short secret that is only compared."""
    return hmac.new(key._subkey("digest"), f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()
