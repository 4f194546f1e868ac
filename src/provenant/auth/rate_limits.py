"""Per-key rate limits: a key created with ``rateLimitPerMinute`` makes at most that many requests in each
minute of the wall clock (fixed windows, 12:00:00 to 12:00:59, ...); past it, 429 ``rate_limited``.

Counted with no database write, where it is cheap:
- With Redis (``PROVENANT_REDIS_URL``): one Lua script per request (INCR, and PEXPIRE when it opens the
  window's counter), awaited with a short timeout (provenant.redis_client): every server process shares the
  count exactly. Redis out of reach answers 503 ``busy``, as for the attempt counters.
- Without Redis: in this process's memory, a dictionary of the current minute's counts. Exact for one server
  process (``provenant serve``'s default); with N processes on one database each counts on its own, so a key
  may make up to N times its limit a minute. Set ``PROVENANT_REDIS_URL`` when running several processes: a
  count shared through the database would be a write per request, which is what keys' bookkeeping avoids.

A key without a limit costs nothing: the limit is read with the key (the same row), and nothing is counted.

Every answer to a request made with a limited key carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset`` (seconds to the window's end; the fields of draft-ietf-httpapi-ratelimit-headers up to
-06, as the contract names them; GitHub sends the same three as ``X-RateLimit-*`` on every answer): a client
can slow down before it is refused, which is what they are for, and they cost one small dictionary per
request of a limited key. The 429 adds ``Retry-After``.
Fixed windows let a key make up to twice its limit across the turn of a minute; that is the usual trade
(GitHub's and Stripe's limits are fixed windows too) for one counter and one round trip.
"""

import math
from datetime import datetime
from typing import Protocol

from provenant.errors import RateLimited
from provenant.redis_client import Scripts

WINDOW_SECONDS = 60


class WindowCounts(Protocol):
    async def hit(self, key_id: str, window: int) -> int:
        """One more request of ``key_id`` in minute ``window``; the requests counted in it so far."""
        ...


class ProcessCounts:
    """This process's counts of the current minute only: a new minute starts an empty dictionary, so the
    memory held is one entry per limited key used this minute. No await: nothing interleaves."""

    def __init__(self) -> None:
        self._window = -1
        self._counts: dict[str, int] = {}

    async def hit(self, key_id: str, window: int) -> int:
        if window != self._window:
            self._window, self._counts = window, {}
        count = self._counts[key_id] = self._counts.get(key_id, 0) + 1
        return count


# The counter of one key in one minute; it outlives its minute by one more, for clocks a little apart.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RedisCounts:
    def __init__(self, redis: Scripts, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix + "rate:"
        self._hit = redis.script(_HIT)

    async def hit(self, key_id: str, window: int) -> int:
        return int(await self._redis.run(self._hit, [f"{self._prefix}{key_id}:{window}"], [2 * WINDOW_SECONDS * 1000]))


class KeyRateLimiter:
    def __init__(self, counts: WindowCounts) -> None:
        self._counts = counts

    @classmethod
    def from_settings(cls, redis: Scripts | None, prefix: str) -> "KeyRateLimiter":
        return cls(RedisCounts(redis, prefix) if redis is not None else ProcessCounts())

    async def admit(self, key_id: str, limit: int, now: datetime) -> dict[str, str]:
        """Counts one request of a key whose limit is ``limit`` a minute; the RateLimit headers of its answer.
        Raises RateLimited (429 ``rate_limited``, the same headers and ``Retry-After``) past the limit."""
        seconds = now.timestamp()
        window = int(seconds // WINDOW_SECONDS)
        reset = max(1, math.ceil((window + 1) * WINDOW_SECONDS - seconds))
        count = await self._counts.hit(key_id, window)
        headers = {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(max(0, limit - count)),
            "RateLimit-Reset": str(reset),
        }
        if count > limit:
            raise RateLimited(limit, reset, headers)
        return headers
