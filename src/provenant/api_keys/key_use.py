"""Key use: each key's lastUsedAt and its requests per UTC day, counted in memory and written now and then.

One KeyUse per app, made by create_app and handed to the authentication of every key (``authenticate``).
"""

import asyncio
import logging
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite

from provenant.db import Database
from provenant.models import ApiKey, ApiKeyUsage

logger = logging.getLogger(__name__)


@cache  # one statement per dialect, shared by every app in the process: building it cost each create_app() ~0.8 ms
def _add_requests(dialect: str) -> Any:
    """requests = requests + n for (key, day): what several processes count of one key adds up."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ApiKeyUsage).values(
        api_key_id=bindparam("key_id"), day=bindparam("day"), requests=bindparam("requests")
    )
    return statement.on_conflict_do_update(
        index_elements=[ApiKeyUsage.api_key_id, ApiKeyUsage.day],
        set_={"requests": ApiKeyUsage.requests + statement.excluded.requests},
    )


# Never moves lastUsedAt backwards, whichever process writes last.
_touch_last_used = (
    update(ApiKey)
    .where(ApiKey.id == bindparam("key_id"))
    .where(ApiKey.last_used_at.is_(None) | (ApiKey.last_used_at < bindparam("used_at")))
    .values(last_used_at=bindparam("used_at"))
)


class KeyUse:
    """What this process counted of key use since it last wrote it: requests per (key, UTC day) and
    each key's latest use, written together in one short transaction of their own.

    Written when a key's stored lastUsedAt is missing (its first use shows at once) or one ``interval``
    old (the setting key_use_write_interval, 30 s by default); when the oldest unwritten use is one
    interval old (noticed by the next request, or by a timer if none comes); and when the app shuts
    down. So there is no write per request, and a use counts even when its request is then refused or
    fails. A write that fails keeps its counts for the next one, an interval later, and is only logged:
    hence the setting's cap of 30 s, for lastUsedAt and usage promise to lag by at most a minute.

    No request writes for it: a write runs on the event loop as a callback of its own (the loop's next
    turn, or the timer), whole, with no await inside (the rule of provenant.db), or at shutdown.
    """

    def __init__(self, database: Database, *, interval: timedelta) -> None:
        self._database = database
        self._interval = interval
        self._add_requests = _add_requests(database.engine.dialect.name)
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, date]] = Counter()
        self._last_used: dict[str, datetime] = {}
        self._due: datetime | None = None  # when the oldest unwritten use must be written
        self._paused_until: datetime | None = None  # after a failed write
        self._timer: asyncio.TimerHandle | None = None
        self._soon_loop: asyncio.AbstractEventLoop | None = None  # a write is queued on this loop

    def record(self, key_id: str, now: datetime, *, written_last_used: datetime | None) -> None:
        with self._lock:
            self._requests[key_id, now.date()] += 1
            if self._last_used.get(key_id, now) <= now:
                self._last_used[key_id] = now
            first = self._due is None
            if self._due is None:
                self._due = now + self._interval
            due = now >= self._due or written_last_used is None or now - written_last_used >= self._interval
        if due and (self._paused_until is None or now >= self._paused_until):
            self._write_soon()
        elif first:
            self._write_later()

    def write(self, now: datetime | None = None) -> None:
        """Writes everything counted so far; on failure keeps it and logs why (never a key or a hash)."""
        now = now or datetime.now(UTC)
        with self._lock:
            requests, self._requests = self._requests, Counter()
            last_used, self._last_used = self._last_used, {}
            self._due = None
        self._cancel_timer()
        if not requests:
            return
        try:
            with self._database.transaction() as session:
                # On the connection: a list of parameters is an executemany, not the ORM's bulk update.
                connection = session.connection()
                connection.execute(
                    self._add_requests,
                    [{"key_id": key, "day": day, "requests": n} for (key, day), n in requests.items()],
                )
                connection.execute(_touch_last_used, [{"key_id": key, "used_at": at} for key, at in last_used.items()])
        except Exception as error:  # whatever failed, the counts are kept and requests go on
            self._keep(requests, last_used, now=now)
            reason = getattr(error, "orig", None) or error  # the engine hides statement parameters
            logger.warning(
                "key use not written (%s: %s); %d counts kept for the next attempt",
                type(error).__name__,
                reason,
                sum(requests.values()),
            )
        else:
            self._paused_until = None

    def _keep(self, requests: Counter[tuple[str, date]], last_used: dict[str, datetime], *, now: datetime) -> None:
        with self._lock:
            self._requests.update(requests)
            for key, at in last_used.items():
                if self._last_used.get(key, at) <= at:
                    self._last_used[key] = at
            self._paused_until = self._due = now + self._interval
        self._write_later()

    def _write_soon(self) -> None:
        """A callback of its own at the event loop's next turn: between two turns of whatever request is
        running, so never inside one's transaction, and before the loop takes a request that comes later."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.write()  # called outside any loop: write now
            return
        if self._soon_loop is not loop:
            self._soon_loop = loop
            loop.call_soon(self._on_soon)

    def _on_soon(self) -> None:
        self._soon_loop = None
        self.write()

    def _write_later(self) -> None:
        """A timer on the running event loop, so that uses with no request after them are written too."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # called outside any loop: the next request or the shutdown writes them
        self._cancel_timer()
        self._timer = loop.call_later(self._interval.total_seconds(), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.write()

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
