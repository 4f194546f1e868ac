"""argon2 off the event loop.

Hashing or checking a password takes tens of milliseconds of CPU and 64 MiB by design, so it runs in
worker threads, a few at a time (more would only queue for the same cores and multiply the memory),
and always *before* the request's first statement: no connection or lock is held while it runs.
"""

import os

import anyio
import anyio.to_thread

from provenant.auth import security

_hashing = anyio.CapacityLimiter(max(2, os.cpu_count() or 1))


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(security.hash_password, password, limiter=_hashing)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one behind ``password_hash``; with no hash (an unknown email) it
    is checked against a hash nobody knows the password of, so both cases take the same time."""

    def verify() -> bool:
        return security.verify_password(password_hash or security.dummy_password_hash(), password)

    return await anyio.to_thread.run_sync(verify, limiter=_hashing)


async def rehash_if_outdated(password_hash: str, password: str) -> str | None:
    """A new hash when the stored one was made with older argon2 parameters, else None."""
    if not security.password_needs_rehash(password_hash):
        return None
    return await hash_password(password)
