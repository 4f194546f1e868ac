"""Passwords: the rule for a new one, and argon2 off the event loop.

Hashing or checking a password takes tens of milliseconds of CPU and 64 MiB by design, so the
``async`` functions run it in worker threads, a few at a time (more would only queue for the same
cores and multiply the memory), and routes call them *before* the request's first statement: no
connection or lock is held while argon2 runs.
"""

import os
import secrets
from functools import lru_cache
from importlib import resources

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024

_password_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory parameters
_hashing = anyio.CapacityLimiter(max(2, os.cpu_count() or 1))


def new_password_problem(password: str) -> str | None:
    """What is wrong with a password someone is choosing (register, accept-invitation, password change),
    said for a form field; None when it is acceptable. The one statement of the rule."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters"
    if is_common_password(password):
        return "is one of the 10,000 most common passwords; choose another"
    return None


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # SecLists' top 10,000 of Mark Burnett's ten million passwords: see COMMON-PASSWORDS-SOURCE.md.
    text = resources.files("provenant.accounts").joinpath("common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.casefold() for line in text.splitlines() if line)


def is_common_password(password: str) -> bool:
    """Whether ``password`` is on the common-password list, ignoring case: ``Password1`` is as
    guessable as ``password1`` (attackers try the capitalised forms first)."""
    return password.casefold() in _common_passwords()


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password_blocking, password, limiter=_hashing)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one behind ``password_hash``; with no hash (an unknown email) it
    is checked against a hash nobody knows the password of, so both cases take the same time."""

    def verify() -> bool:
        try:
            return _password_hasher.verify(password_hash or dummy_password_hash(), password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(verify, limiter=_hashing)


async def rehash_if_outdated(password_hash: str, password: str) -> str | None:
    """A new hash when the stored one was made with older argon2 parameters, else None."""
    if not password_needs_rehash(password_hash):
        return None
    return await hash_password(password)


def hash_password_blocking(password: str) -> str:
    """argon2 on the calling thread: for startup, scripts and tests, never on the event loop."""
    return _password_hasher.hash(password)


def password_needs_rehash(password_hash: str) -> bool:
    return _password_hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def dummy_password_hash() -> str:
    """A hash nobody knows the password of: unknown emails are verified against it."""
    return hash_password_blocking(secrets.token_urlsafe(32))
