"""Failed authentications are limited, so that neither a password nor a key can be guessed.

- Sign-ins: per account (its normalised email) and client IP, 10 failures in 15 minutes, as Auth0 does;
  per client IP across accounts, 100 an hour. A successful sign-in clears its account's count.
- API keys: per client IP, 100 failed authentications (unknown, malformed, revoked, expired) a minute.
- Leaked-key reports (no sign-in, so every report counts, not only failures): per client IP, 100 an
  hour of up to 100 keys each: plenty for a scanner, too few to make the endpoint a key-guessing tool.

While a limit holds, the right password or key gets the same 429 as a wrong one, and every limit lifts
on its own when its window ends: nobody can lock a victim out for good. Counters are fixed windows
kept where every server process sees them: in the database (``auth_attempts``), or in Redis when
``PROVENANT_REDIS_URL`` is set.

A successful API-key request costs nothing here: only failures are counted, and a process that has
seen an IP go over its limit refuses that IP before asking the database anything. (Another process
learns of the block at the first failure it sees from that IP.)
"""

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import case, delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from provenant.config import Settings
from provenant.db import Database
from provenant.errors import Busy, TooManyAttempts, TooManyRequests
from provenant.models import AuthAttempt, UTCDateTime

if TYPE_CHECKING:
    import redis

# Stale rows are swept now and then by the hit that draws this chance, not by a scheduler.
_SWEEP_CHANCE = 1 / 200
_SWEEP_AGE = timedelta(days=1)
# A bound on the per-process memory of blocked IPs (a flood of addresses cannot grow it without end).
_MAX_REMEMBERED_BLOCKS = 100_000


class TooManyReports(TooManyRequests):
    code = "too_many_attempts"

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__("Too many reports from this address; try again in {seconds} seconds.", retry_after=retry_after)


@dataclass(frozen=True, slots=True)
class Limit:
    kind: str
    failures: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class Count:
    failures: int
    resets_at: datetime


class CounterStore(Protocol):
    def hit(self, keys: list[tuple[str, timedelta]], now: datetime) -> list[Count]:
        """Counts one more failure on each (key, window), all at once; the counts after it."""
        ...

    def counts(self, keys: list[tuple[str, timedelta]], now: datetime) -> list[Count | None]:
        """The count of each (key, window) whose window is still open, else None."""
        ...

    def clear(self, key: str) -> None: ...


class DatabaseCounters:
    """Counters in the ``auth_attempts`` table; the counters of one failure are written in one short
    transaction of its own (a failed attempt must be counted although its request fails)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._insert = postgresql.insert if database.engine.dialect.name == "postgresql" else sqlite.insert

    def _upsert(self, key: str, window: timedelta, now: datetime) -> Any:
        window_ended = AuthAttempt.window_started_at <= literal(now - window, UTCDateTime())
        return (
            self._insert(AuthAttempt)
            .values(key=key, window_started_at=now, failures=1)
            .on_conflict_do_update(
                index_elements=[AuthAttempt.key],
                set_={
                    "failures": case((window_ended, 1), else_=AuthAttempt.failures + 1),
                    "window_started_at": case(
                        (window_ended, literal(now, UTCDateTime())), else_=AuthAttempt.window_started_at
                    ),
                },
            )
            .returning(AuthAttempt.failures, AuthAttempt.window_started_at)
        )

    def hit(self, keys: list[tuple[str, timedelta]], now: datetime) -> list[Count]:
        counts = []
        with self._database.transaction() as session:
            for key, window in keys:
                failures, started = session.execute(self._upsert(key, window, now)).one()
                counts.append(Count(failures=failures, resets_at=started + window))
            if random.random() < _SWEEP_CHANCE:  # noqa: S311 - a sampling chance, not a secret
                session.execute(delete(AuthAttempt).where(AuthAttempt.window_started_at < now - _SWEEP_AGE))
        return counts

    def counts(self, keys: list[tuple[str, timedelta]], now: datetime) -> list[Count | None]:
        with self._database.transaction(writes=False) as session:
            query = select(AuthAttempt.key, AuthAttempt.failures, AuthAttempt.window_started_at).where(
                AuthAttempt.key.in_([key for key, _ in keys])
            )
            rows = {key: (failures, started) for key, failures, started in session.execute(query)}
        counts: list[Count | None] = []
        for key, window in keys:
            failures, started = rows.get(key, (0, now - window))
            counts.append(Count(failures, started + window) if started + window > now else None)
        return counts

    def clear(self, key: str) -> None:
        with self._database.transaction() as session:
            session.execute(delete(AuthAttempt).where(AuthAttempt.key == key))


class RedisCounters:
    """Counters as Redis keys that expire with their window. Redis out of reach answers 503 ``busy``:
    a limit that cannot be checked is not waived."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis  # here, not at the top: Redis is optional, and importing it cost every server start ~50 ms

        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._unreachable = redis.RedisError
        self._prefix = prefix

    def _execute(self, pipe: "redis.client.Pipeline") -> list[Any]:
        try:
            return list(pipe.execute())
        except self._unreachable as error:
            raise Busy() from error

    def hit(self, keys: list[tuple[str, timedelta]], now: datetime) -> list[Count]:
        pipe = self._redis.pipeline(transaction=True)
        for key, window in keys:
            pipe.set(self._prefix + key, 0, ex=window, nx=True)
            pipe.incr(self._prefix + key)
            pipe.pttl(self._prefix + key)
        replies = self._execute(pipe)
        return [
            Count(failures=int(failures), resets_at=now + timedelta(milliseconds=max(int(ttl_ms), 0)))
            for failures, ttl_ms in zip(replies[1::3], replies[2::3], strict=True)
        ]

    def counts(self, keys: list[tuple[str, timedelta]], now: datetime) -> list[Count | None]:
        pipe = self._redis.pipeline(transaction=False)
        for key, _ in keys:
            pipe.get(self._prefix + key)
            pipe.pttl(self._prefix + key)
        replies = self._execute(pipe)
        counts: list[Count | None] = []
        for failures, ttl_ms in zip(replies[::2], replies[1::2], strict=True):
            if failures is None or int(ttl_ms) <= 0:
                counts.append(None)
            else:
                counts.append(Count(failures=int(failures), resets_at=now + timedelta(milliseconds=int(ttl_ms))))
        return counts

    def clear(self, key: str) -> None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.delete(self._prefix + key)
        self._execute(pipe)


def _key(limit: Limit, *subject: str) -> str:
    """A counter's name: emails and addresses are personal data, so only their digest is stored."""
    digest = hashlib.sha256("\x1f".join(subject).encode()).hexdigest()
    return f"{limit.kind}:{digest}"


class AttemptLimiter:
    def __init__(self, store: CounterStore, settings: Settings) -> None:
        self._store = store
        self.sign_in_per_account = Limit(
            "sign-in:account", settings.sign_in_failures_per_account,
            timedelta(seconds=settings.sign_in_failures_per_account_window),
        )
        self.sign_in_per_ip = Limit(
            "sign-in:ip", settings.sign_in_failures_per_ip, timedelta(seconds=settings.sign_in_failures_per_ip_window)
        )
        self.api_key_per_ip = Limit(
            "api-key:ip", settings.api_key_failures_per_ip, timedelta(seconds=settings.api_key_failures_per_ip_window)
        )
        self.leak_reports_per_ip = Limit("leak-report:ip", 100, timedelta(hours=1))
        self._blocked_ips: dict[str, datetime] = {}

    @classmethod
    def from_settings(cls, settings: Settings, database: Database) -> "AttemptLimiter":
        if settings.redis_url:
            return cls(RedisCounters(settings.redis_url, settings.redis_prefix), settings)
        return cls(DatabaseCounters(database), settings)

    # --- sign-ins: checked before the password is (which also spares argon2's work) -----------

    def _sign_in_keys(self, email_key: str, ip: str | None) -> list[tuple[Limit, str]]:
        address = ip or "unknown"
        return [
            (self.sign_in_per_account, _key(self.sign_in_per_account, email_key, address)),
            (self.sign_in_per_ip, _key(self.sign_in_per_ip, address)),
        ]

    def check_sign_in(self, email_key: str, ip: str | None, now: datetime) -> None:
        keys = self._sign_in_keys(email_key, ip)
        counts = self._store.counts([(key, limit.window) for limit, key in keys], now)
        for (limit, _), count in zip(keys, counts, strict=True):
            if count is not None and count.failures >= limit.failures:
                raise TooManyAttempts(count.resets_at - now)

    def sign_in_failed(self, email_key: str, ip: str | None, now: datetime) -> None:
        self._store.hit([(key, limit.window) for limit, key in self._sign_in_keys(email_key, ip)], now)

    def sign_in_succeeded(self, email_key: str, ip: str | None) -> None:
        self._store.clear(self._sign_in_keys(email_key, ip)[0][1])

    # --- API keys: the block is remembered in the process, so a blocked IP costs no query -------

    def check_api_key(self, ip: str | None, now: datetime) -> None:
        blocked_until = self._blocked_ips.get(ip or "unknown")
        if blocked_until is None:
            return
        if blocked_until > now:
            raise TooManyAttempts(blocked_until - now)
        del self._blocked_ips[ip or "unknown"]

    def api_key_failed(self, ip: str | None, now: datetime) -> None:
        """Counts a failed key; raises TooManyAttempts for an attempt past the limit."""
        address = ip or "unknown"
        limit = self.api_key_per_ip
        [count] = self._store.hit([(_key(limit, address), limit.window)], now)
        if count.failures >= limit.failures:
            self._remember_block(address, count.resets_at)
        if count.failures > limit.failures:
            raise TooManyAttempts(count.resets_at - now)

    # --- leaked-key reports ------------------------------------------------------------------------

    def leak_reported(self, ip: str | None, now: datetime) -> None:
        """Counts one report; raises TooManyReports for a report past the limit."""
        limit = self.leak_reports_per_ip
        [count] = self._store.hit([(_key(limit, ip or "unknown"), limit.window)], now)
        if count.failures > limit.failures:
            raise TooManyReports(count.resets_at - now)

    def _remember_block(self, address: str, until: datetime) -> None:
        if len(self._blocked_ips) >= _MAX_REMEMBERED_BLOCKS:
            self._blocked_ips.clear()  # the counters stay in the store: a blocked IP is learned again
        self._blocked_ips[address] = until
