"""Guessing is limited: an attempt at a password or a key is counted *before* it is checked.

The limits (settings; defaults):
- Sign-ins: per account (its normalised email) and client IP, 10 failures in 15 minutes, as Auth0 does;
  per client IP across accounts, 100 an hour. A successful sign-in clears its account's count.
- API keys: per client IP, 100 failed authentications (unknown, malformed, revoked, expired) a minute.
- Codes tried with one mfaToken (the second step of a sign-in): 5, counted before each code is checked,
  whatever its outcome (a right one ends the token). Wrong codes also count as failed sign-ins.
- Registrations: per client IP, 10 an hour, whatever their outcome (each costs an argon2 hash).
- Leaked-key reports (no sign-in, so every report counts): per client IP, 100 an hour of up to 100 keys
  each: plenty for a scanner, too few to make the endpoint a key-guessing tool.

How a caller limits an attempt, the one way to do it (a password is tried through
accounts.service.check_password, which does this and records the failure)::

    attempt = await limiter.reserve_sign_in(account, ip)  # counted now; 429 too_many_attempts when over
    if not await passwords.verify_password(stored_hash, password):
        raise Unauthenticated(...)                         # a failure: it stays counted
    await attempt.succeeded()                              # not a failure: its count is given back

Counting first is what holds under concurrency: 50 wrong passwords sent at once are 50 atomic increments
(in every process), and only those whose increment stayed within the limit go on to argon2; the others
are refused with 429 and give their count back at once, so a refusal is never itself a failure. (Reading
the count before argon2 and adding to it after let all 50 through, a right password among them too.)
Whatever else must be counted like a failed sign-in, a wrong two-factor code say, reserves the same way.
An attempt that counts whatever its outcome (a registration, a leak report, a password-reset request) is
never given back: ``count_registration`` and ``count_leak_report`` are reservations nobody releases. An
exception between reserve and ``succeeded()`` leaves the attempt counted: when in doubt, it failed.

While a limit holds, the right password or key gets the same 429 as a wrong one, and every limit lifts
on its own when its window ends: nobody can lock a victim out for good. Counters are fixed windows
kept where every server process sees them (auth.attempt_counters: the database, or Redis).

A successful API-key request costs nothing here: only failures are counted, and a process that has
seen an IP go over its limit refuses that IP before asking the database anything. (Another process
learns of the block at the first failure it sees from that IP.)
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from provenant.auth.attempt_counters import Count, CounterStore, DatabaseCounters, RedisCounters
from provenant.auth.security import MFA_TOKEN_LIFETIME_SECONDS
from provenant.config import Settings
from provenant.db import Database
from provenant.errors import TooManyAttempts, TooManyRequests
from provenant.redis_client import Scripts

# A bound on the per-process memory of blocked IPs (a flood of addresses cannot grow it without end).
_MAX_REMEMBERED_BLOCKS = 100_000
MFA_CODES_PER_TOKEN = 5


class TooManyReports(TooManyRequests):
    code = "too_many_attempts"

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__("Too many reports from this address; try again in {seconds} seconds.", retry_after=retry_after)


@dataclass(frozen=True, slots=True)
class Limit:
    kind: str
    attempts: int
    window: timedelta
    # A success wipes the subject's count instead of only giving its own attempt back (sign-ins per account).
    cleared_by_success: bool = False


def _key(limit: Limit, *subject: str) -> str:
    """A counter's name: emails and addresses are personal data, so only their digest is stored."""
    digest = hashlib.sha256("\x1f".join(subject).encode()).hexdigest()
    return f"{limit.kind}:{digest}"


class Attempt:
    """An attempt counted before it was checked. A failure keeps it counted (do nothing);
    ``succeeded()`` gives it back."""

    def __init__(self, store: CounterStore, counted: list[tuple[Limit, str, Count]]) -> None:
        self._store = store
        self._counted = counted

    async def released(self) -> None:
        """Neither a failure nor a success yet (a right password before its second factor): every count is given
        back, none cleared, so the failures before it still count."""
        counted, self._counted = self._counted, []
        if counted:
            await self._store.give_back([(key, count.window) for _, key, count in counted])

    async def succeeded(self) -> None:
        """The attempt was right: it is no failure. Safe to call twice."""
        counted, self._counted = self._counted, []
        back = [(key, count.window) for limit, key, count in counted if not limit.cleared_by_success]
        if back:
            await self._store.give_back(back)
        for limit, key, _ in counted:
            if limit.cleared_by_success:
                await self._store.clear(key)


class AttemptLimiter:
    def __init__(self, store: CounterStore, settings: Settings) -> None:
        self._store = store
        self.sign_in_per_account = Limit(
            "sign-in:account",
            settings.sign_in_failures_per_account,
            timedelta(seconds=settings.sign_in_failures_per_account_window),
            cleared_by_success=True,
        )
        self.sign_in_per_ip = Limit(
            "sign-in:ip", settings.sign_in_failures_per_ip, timedelta(seconds=settings.sign_in_failures_per_ip_window)
        )
        self.api_key_per_ip = Limit(
            "api-key:ip", settings.api_key_failures_per_ip, timedelta(seconds=settings.api_key_failures_per_ip_window)
        )
        self.registrations_per_ip = Limit(
            "register:ip", settings.registrations_per_ip, timedelta(seconds=settings.registrations_per_ip_window)
        )
        self.leak_reports_per_ip = Limit("leak-report:ip", 100, timedelta(hours=1))
        # Password-reset requests, limited like sign-ins (each request counts: none is "right" or "wrong").
        self.reset_requests_per_account = Limit(
            "reset:account", settings.sign_in_failures_per_account, self.sign_in_per_account.window
        )
        self.reset_requests_per_ip = Limit("reset:ip", settings.sign_in_failures_per_ip, self.sign_in_per_ip.window)
        self.codes_per_mfa_token = Limit(
            "mfa-token", MFA_CODES_PER_TOKEN, timedelta(seconds=MFA_TOKEN_LIFETIME_SECONDS)
        )
        self._blocked_ips: dict[str, datetime] = {}

    @classmethod
    def from_settings(cls, settings: Settings, database: Database, redis: Scripts | None) -> "AttemptLimiter":
        if redis is not None:
            return cls(RedisCounters(redis, settings.redis_prefix), settings)
        return cls(DatabaseCounters(database), settings)

    async def reserve(self, counters: Sequence[tuple[Limit, str]], now: datetime | None = None) -> Attempt:
        """Counts an attempt on each (limit, counter key) before it is checked; 429 ``too_many_attempts``,
        and nothing counted, when any of them is over its limit. The general form of the methods below."""
        now = now or datetime.now(UTC)
        counts, wait = await self._add(counters, now)
        if wait is not None:
            raise TooManyAttempts(wait)
        return Attempt(self._store, [(limit, key, count) for (limit, key), count in zip(counters, counts, strict=True)])

    async def _add(self, counters: Sequence[tuple[Limit, str]], now: datetime) -> tuple[list[Count], timedelta | None]:
        """The counts after one more attempt; and, when one is over its limit, the wait (then all are given back)."""
        counts = await self._store.add([(key, limit.window) for limit, key in counters], now)
        waits = [
            count.resets_at - now
            for (limit, _), count in zip(counters, counts, strict=True)
            if count.attempts > limit.attempts
        ]
        if not waits:
            return counts, None
        await self._store.give_back([(key, count.window) for (_, key), count in zip(counters, counts, strict=True)])
        return counts, max(waits)

    async def count_mfa_code(self, token_id: str) -> bool:
        """Counts a code tried with the mfaToken ``token_id`` before it is checked, whatever its outcome (a right
        one ends the token, so every try before it was wrong); False past the limit."""
        limit = self.codes_per_mfa_token
        try:
            await self.reserve([(limit, _key(limit, token_id))])
        except TooManyAttempts:
            return False
        return True

    # --- sign-ins (and whatever is counted like one) -----------------------------------------------

    async def reserve_sign_in(self, email_key: str, ip: str | None) -> Attempt:
        """A sign-in attempt for an account (its ``email_key``) from an address: see the module's docstring."""
        address = ip or "unknown"
        return await self.reserve(
            [
                (self.sign_in_per_account, _key(self.sign_in_per_account, email_key, address)),
                (self.sign_in_per_ip, _key(self.sign_in_per_ip, address)),
            ]
        )

    # --- what counts whatever its outcome ------------------------------------------------------------

    async def count_registration(self, ip: str | None) -> None:
        """Counts a registration before its password is hashed; 429 ``too_many_attempts`` past the limit."""
        await self.reserve([(self.registrations_per_ip, _key(self.registrations_per_ip, ip or "unknown"))])

    async def count_reset_request(self, email_key: str, ip: str | None) -> None:
        """Counts a request to reset ``email_key``'s password, whether or not it has an account; 429
        ``too_many_attempts`` past the limits (per account and address, per address), as for sign-ins."""
        address = ip or "unknown"
        await self.reserve(
            [
                (self.reset_requests_per_account, _key(self.reset_requests_per_account, email_key, address)),
                (self.reset_requests_per_ip, _key(self.reset_requests_per_ip, address)),
            ]
        )

    async def count_leak_report(self, ip: str | None) -> None:
        """Counts one report; 429 ``too_many_attempts`` (TooManyReports) past the limit."""
        limit = self.leak_reports_per_ip
        _, wait = await self._add([(limit, _key(limit, ip or "unknown"))], datetime.now(UTC))
        if wait is not None:
            raise TooManyReports(wait)

    # --- API keys: the block is remembered in the process, so a blocked IP costs no query -------

    def check_api_key(self, ip: str | None, now: datetime) -> None:
        blocked_until = self._blocked_ips.get(ip or "unknown")
        if blocked_until is None:
            return
        if blocked_until > now:
            raise TooManyAttempts(blocked_until - now)
        del self._blocked_ips[ip or "unknown"]

    async def api_key_failed(self, ip: str | None, now: datetime) -> None:
        """Counts a failed key (before its 401 is answered); raises TooManyAttempts for one past the limit.

        A key is looked up before it is counted (only failures count, so that a valid key costs nothing),
        but its answer is decided by the count: however many are sent at once, from however many
        processes, at most the limit of them get their 401 in a window."""
        address = ip or "unknown"
        limit = self.api_key_per_ip
        [count], wait = await self._add([(limit, _key(limit, address))], now)
        if count.attempts >= limit.attempts:
            self._remember_block(address, count.resets_at)
        if wait is not None:
            raise TooManyAttempts(wait)

    def _remember_block(self, address: str, until: datetime) -> None:
        if len(self._blocked_ips) >= _MAX_REMEMBERED_BLOCKS:
            self._blocked_ips.clear()  # the counters stay in the store: a blocked IP is learned again
        self._blocked_ips[address] = until
