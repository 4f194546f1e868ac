"""Redis, when ``PROVENANT_REDIS_URL`` is set: where every server process shares the attempt counters
(auth.attempts) and the keys' rate limits (auth.rate_limits).

One asyncio client per app, made by ``create_app`` and closed by its lifespan. Every call is awaited, never
made on the event loop synchronously: a Redis that accepts connections and never answers used to block the
whole process a second per call. Each call is one round trip (a Lua script), bounded by ``TIMEOUT`` and
never retried; a Redis out of reach, slow or hung answers 503 ``busy`` (``Retry-After``): a limit that
cannot be checked is not waived.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from provenant.errors import Busy

if TYPE_CHECKING:
    import redis.asyncio

# Seconds a connect or a reply may take. A healthy Redis on the same network answers in well under a
# millisecond, but the wait is measured on the event loop, which may be busy with other requests' database
# work for a while when the machine is loaded: at 1 s, 30 sign-ins at once on a loaded test machine met false
# timeouts. Two seconds tells a hung Redis from a busy loop and still answers a waiting request soon.
TIMEOUT = 2.0


class Scripts:
    """The app's Redis client and the Lua scripts it runs (each loaded once, then called by its SHA)."""

    def __init__(self, url: str) -> None:
        # Imported here, not at the top: Redis is optional, and importing it cost every server start ~50 ms.
        import redis.asyncio
        from redis.backoff import NoBackoff
        from redis.exceptions import RedisError

        self.client: redis.asyncio.Redis = redis.asyncio.Redis.from_url(
            url,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
            # redis-py retries a timed-out call three times by default: a hung Redis would hold a request 4x longer.
            retry=redis.asyncio.retry.Retry(NoBackoff(), 0),
        )
        self._unreachable = RedisError

    def script(self, source: str) -> "redis.commands.core.AsyncScript":
        return self.client.register_script(source)

    async def run(self, script: Any, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Runs ``script`` (from ``script()``) atomically; 503 ``busy`` when Redis does not answer in time."""
        try:
            return await script(keys=list(keys), args=list(args))
        except (self._unreachable, TimeoutError, OSError) as error:
            raise Busy() from error

    async def close(self) -> None:
        await self.client.aclose()
