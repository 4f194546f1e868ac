"""Where the attempt counters of auth.attempts are kept, so that every server process sees them: in the
database (``auth_attempts``), or in Redis when ``PROVENANT_REDIS_URL`` is set (provenant.redis_client:
awaited, with a short timeout). Each is a fixed window; every change of one is atomic.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import case, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite

from provenant.db import Database
from provenant.models import AuthAttempt, UTCDateTime
from provenant.redis_client import Scripts

# Stale rows are swept now and then by the hit that draws this chance, not by a scheduler.
_SWEEP_CHANCE = 1 / 200
_SWEEP_AGE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Count:
    attempts: int  # in the window, this one included
    window: object  # which window counted it: a count is given back only while that window lasts
    resets_at: datetime


class CounterStore(Protocol):
    async def add(self, counters: Sequence[tuple[str, timedelta]], now: datetime) -> list[Count]:
        """One more attempt on each (key, window length), each atomically; the counts after it."""
        ...

    async def give_back(self, counted: Sequence[tuple[str, object]]) -> None:
        """One attempt less on each (key, ``Count.window``), unless that window has ended meanwhile."""
        ...

    async def clear(self, key: str) -> None: ...


class DatabaseCounters:
    """Counters in the ``auth_attempts`` table, each change one upsert (atomic on SQLite and PostgreSQL)
    in a short transaction of its own: a failed attempt must stay counted although its request fails.
    No await runs inside a transaction (the rule of provenant.db)."""

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

    async def add(self, counters: Sequence[tuple[str, timedelta]], now: datetime) -> list[Count]:
        counts = []
        with self._database.transaction() as session:
            for key, window in counters:
                attempts, started = session.execute(self._upsert(key, window, now)).one()
                counts.append(Count(attempts=attempts, window=started, resets_at=started + window))
            if random.random() < _SWEEP_CHANCE:  # noqa: S311 - a sampling chance, not a secret
                session.execute(delete(AuthAttempt).where(AuthAttempt.window_started_at < now - _SWEEP_AGE))
        return counts

    async def give_back(self, counted: Sequence[tuple[str, object]]) -> None:
        with self._database.transaction() as session:
            for key, window in counted:
                session.execute(
                    update(AuthAttempt)
                    .where(AuthAttempt.key == key, AuthAttempt.window_started_at == window, AuthAttempt.failures > 0)
                    .values(failures=AuthAttempt.failures - 1)
                )

    async def clear(self, key: str) -> None:
        with self._database.transaction() as session:
            session.execute(delete(AuthAttempt).where(AuthAttempt.key == key))


# A counter is a hash {n: attempts, w: the window's id (when it opened, in ms)} that expires with its window.
_ADD = """
local replies = {}
for i, key in ipairs(KEYS) do
  local attempts = redis.call('HINCRBY', key, 'n', 1)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('HSET', key, 'w', ARGV[1])
    ttl = tonumber(ARGV[i + 1])
    redis.call('PEXPIRE', key, ttl)
  end
  replies[#replies + 1] = attempts
  replies[#replies + 1] = redis.call('HGET', key, 'w')
  replies[#replies + 1] = ttl
end
return replies
"""
_GIVE_BACK = """
for i, key in ipairs(KEYS) do
  if redis.call('HGET', key, 'w') == ARGV[i] and tonumber(redis.call('HGET', key, 'n')) > 0 then
    redis.call('HINCRBY', key, 'n', -1)
  end
end
return 0
"""
_CLEAR = "return redis.call('DEL', KEYS[1])"


class RedisCounters:
    """Counters as Redis hashes that expire with their window, each change one Lua script (atomic)."""

    def __init__(self, redis: Scripts, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix + "attempts:"
        self._add, self._give_back, self._clear = redis.script(_ADD), redis.script(_GIVE_BACK), redis.script(_CLEAR)

    async def add(self, counters: Sequence[tuple[str, timedelta]], now: datetime) -> list[Count]:
        windows_ms = [round(window.total_seconds() * 1000) for _, window in counters]
        replies = await self._redis.run(
            self._add, [self._prefix + key for key, _ in counters], [round(now.timestamp() * 1000), *windows_ms]
        )
        return [
            Count(attempts=int(attempts), window=window, resets_at=now + timedelta(milliseconds=int(ttl_ms)))
            for attempts, window, ttl_ms in zip(replies[::3], replies[1::3], replies[2::3], strict=True)
        ]

    async def give_back(self, counted: Sequence[tuple[str, object]]) -> None:
        await self._redis.run(self._give_back, [self._prefix + key for key, _ in counted], [w for _, w in counted])

    async def clear(self, key: str) -> None:
        await self._redis.run(self._clear, [self._prefix + key], [])
