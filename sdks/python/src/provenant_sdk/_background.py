"""Background mode: `log_turn` queues a turn and returns; one thread per client sends the queue in batches.

What a caller of `log_turn` pays is a dict, a uuid and a deque append: no lock, no I/O, no exception. The
sender thread wakes every INTERVAL seconds, or as soon as BATCH_TURNS turns wait, takes up to MAX_BATCH queued
items, groups them by session (keeping their order) and POSTs each group as one JSON array. Every turn carries
a ``clientId``, which the server stores once per session, so a batch whose answer was lost is sent again
without storing anything twice.

A batch that got no answer, a 429, 502, 503 or 504 is sent again after a backoff (honouring ``Retry-After``)
for as long as it takes: the queue holds on to what it accepted while the server is away. Meanwhile nothing
after it is sent, so a session's turns arrive in the order they were logged. Another 5xx is tried
SERVER_ERROR_RETRIES more times; any other refusal (401, 403, 404, 409 ``session_ended``) is final. Turns
given up on are counted (``undelivered``) and each kind of failure is logged once as a warning.

The queue holds at most ``max_queued_turns`` items; a turn logged when it is full is dropped, counted
(``dropped``) and, the first time, logged as a warning. `flush` waits until everything queued before it is
settled; `close` flushes within a timeout and stops the thread; so does interpreter exit (atexit) for every
sender still running. In a child process made by ``fork`` the parent's queue is forgotten (the parent sends
it) and the child's first turn starts the child's own sender.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from provenant_sdk import _retry
from provenant_sdk._errors import APIConnectionError, APIStatusError, ProvenantError, UnprocessableEntityError
from provenant_sdk._http import Call, Settings, decode, settle

logger = logging.getLogger("provenant_sdk")

INTERVAL = 0.5
BATCH_TURNS = 100
MAX_BATCH = 500  # the server's limit for one array
SERVER_ERROR_RETRIES = 5
SHUTDOWN_TIMEOUT = 10.0
_UNAVAILABLE = frozenset({429, 502, 503, 504})
_ITEM_INDEX = re.compile(r"^\[(\d+)\]")
_QUEUE_FULL = (
    "The queue of turns to send is full ({} items): new turns are dropped until it drains (see "
    "dropped_turns). Is the Provenant server reachable?"
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class End:
    """Ending a session, queued behind its turns."""

    status: str


CREATE = object()
"""Creating a handle's session, queued when its block is entered (the session's start time is then)."""


class Halted(Exception):
    """The sender was told to stop before an item was settled."""


class RemoteSession:
    """The server's session behind a `client.session()` handle, created once by whoever needs it first.

    The sender creates it before sending the handle's first batch; a reader of the handle (``s["id"]``)
    creates it at once if the sender has not. The claim is held only during one attempt, so a reader never
    waits behind the sender's backoff.
    """

    def __init__(self, call: Call) -> None:
        self.call = call
        self.session: dict[str, Any] | None = None
        self.error: ProvenantError | None = None  # set when creating it failed for good
        self._reset_locks()
        _remotes.add(self)

    def _reset_locks(self) -> None:
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._creating = False

    def create(self, attempt: Callable[[Call], dict[str, Any]]) -> dict[str, Any]:
        """The session, created with ``attempt`` unless it exists; raises what ``attempt`` raises."""
        with self._lock:
            while self._creating:
                self._settled.wait()
            if self.session is not None:
                return self.session
            if self.error is not None:
                raise self.error
            self._creating = True
        session: dict[str, Any] | None = None
        try:
            session = attempt(self.call)
        finally:
            with self._lock:
                self.session = session
                self._creating = False
                self._settled.notify_all()
        return session

    def give_up(self, error: ProvenantError) -> None:
        with self._lock:
            if self.session is None:
                self.error = error


Target = Any  # a session id (str) or a handle holding a RemoteSession in ``_remote``


class Sender:
    """The queue of one client and the thread that empties it; it holds the client's settings, not the
    client, so turns still queued when a client is garbage-collected are sent all the same."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None) -> None:
        self._settings = settings
        self._transport = transport
        self._max = settings.max_queued_turns
        self._closed = False
        self._retired = False
        self._reset()
        _senders.add(self)

    def _reset(self) -> None:
        self._queue: deque[tuple[Target, Any]] = deque()
        self._inflight: Sequence[tuple[Target, Any]] = ()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None
        self._warned: set[str] = set()
        self.dropped = 0
        self.undelivered = 0

    # The caller's side

    def put(self, target: Target, item: Any) -> None:
        queue = self._queue
        if self._closed or len(queue) >= self._max:
            self._refuse()
            return
        queue.append((target, item))
        if self._thread is None:
            self._start()
        elif len(queue) >= BATCH_TURNS and not self._wake.is_set():
            self._wake.set()

    def put_control(self, target: Target, item: Any) -> None:
        """Queue a session's creation or end. When the queue is full it is left out without counting a turn:
        a session is created anyway before its first batch; one whose end is left out stays ACTIVE."""
        if self._closed or len(self._queue) >= self._max:
            self._warn("queue_full", _QUEUE_FULL.format(self._max))
            return
        self._queue.append((target, item))
        if self._thread is None:
            self._start()

    def _refuse(self) -> None:
        if self._closed:
            self.drop("closed", "A turn was logged after the client was closed; it was dropped.")
        else:
            self.drop("queue_full", _QUEUE_FULL.format(self._max))

    def drop(self, kind: str, message: str) -> None:
        """Count a turn that was not queued, and say why (once per kind)."""
        with self._lock:
            self.dropped += 1
        self._warn(kind, message)

    def pending(self) -> bool:
        return bool(self._queue) or bool(self._inflight)

    def flush(self, timeout: float | None) -> bool:
        """Wait until everything queued so far is sent or given up on; False if ``timeout`` ran out first."""
        if not self.pending():
            return True
        if self._thread is None or not self._thread.is_alive():
            if self._halt.is_set():
                return False
            self._start()
        marker = threading.Event()
        self._queue.append((None, marker))
        self._wake.set()
        return marker.wait(timeout)

    def close(self, timeout: float | None) -> None:
        """Send what is queued within ``timeout`` seconds, then stop; what is left is counted undelivered."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        delivered = self.flush(timeout)
        self._halt.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(None if delivered else 1.0)
        if not delivered:
            left = sum(1 for _, item in (*self._inflight, *self._queue) if isinstance(item, dict))
            with self._lock:
                self.undelivered += left
            logger.warning("Provenant: %d logged turns were not sent before the client closed.", left)
        if self._http is not None and (thread is None or not thread.is_alive()):
            self._http.close()

    def retire(self) -> None:
        """The client is gone: send what is queued, then let the thread end."""
        self._retired = True
        self._wake.set()

    def http(self) -> httpx.Client:
        """The sender's own connection pool (a forked child makes a new one)."""
        with self._lock:
            if self._http is None:
                settings = self._settings
                self._http = httpx.Client(
                    base_url=settings.base_url,
                    headers=settings.headers,
                    timeout=settings.timeout,
                    transport=self._transport,
                )
            return self._http

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            _flush_at_exit_of_this_process()
            self._thread = threading.Thread(target=self._run, name="provenant-sender", daemon=True)
            self._thread.start()

    def _warn(self, kind: str, message: str) -> None:
        if kind in self._warned:
            logger.debug("Provenant: %s", message)
            return
        self._warned.add(kind)
        logger.warning("Provenant: %s", message)

    # The thread's side

    def _run(self) -> None:
        http = self.http()
        while not self._halt.is_set():
            if len(self._queue) < BATCH_TURNS:
                self._wake.wait(INTERVAL)
            self._wake.clear()
            while self._queue and not self._halt.is_set():
                self._deliver_chunk(http, self._take())
            if self._retired and not self._queue:
                break

    def _take(self) -> list[tuple[Target, Any]]:
        queue, chunk = self._queue, list[tuple[Target, Any]]()
        while queue and len(chunk) < MAX_BATCH:
            chunk.append(queue.popleft())
        self._inflight = chunk
        return chunk

    def _deliver_chunk(self, http: httpx.Client, chunk: list[tuple[Target, Any]]) -> None:
        groups: dict[object, tuple[Target, list[Any]]] = {}
        markers: list[threading.Event] = []
        for target, item in chunk:
            if isinstance(item, threading.Event):
                markers.append(item)
            else:
                key = target if isinstance(target, str) else id(target)
                groups.setdefault(key, (target, []))[1].append(item)
        try:
            for target, items in groups.values():
                self._deliver(http, target, items)
        except Halted:
            return
        self._inflight = ()
        for marker in markers:
            marker.set()

    def _deliver(self, http: httpx.Client, target: Target, items: list[Any]) -> None:
        """One session's items in order: runs of turns as batches, an end as an end."""
        session_id = self._session_id(http, target)
        if session_id is None:
            self._give_up_turns(items)
            return
        run: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, End):
                self._post_turns(http, session_id, run)
                run = []
                self._end(http, session_id, item)
            elif item is not CREATE:
                run.append(item)
        self._post_turns(http, session_id, run)

    def _session_id(self, http: httpx.Client, target: Target) -> str | None:
        if isinstance(target, str):
            return target
        remote: RemoteSession = target._remote

        def attempt(call: Call) -> dict[str, Any]:
            return decode(self._attempt(http, call))  # type: ignore[no-any-return]

        try:
            return str(self._until_settled(lambda: remote.create(attempt))["id"])
        except Halted:
            raise
        except ProvenantError as error:
            remote.give_up(error)
            self._warn(
                f"create:{error.code}", f"A session could not be created, its turns are dropped: {error}"
            )
            return None

    def _post_turns(self, http: httpx.Client, session_id: str, turns: list[dict[str, Any]]) -> None:
        if not turns:
            return
        body, sendable = _encode(turns)
        if len(sendable) < len(turns):
            self._give_up(
                len(turns) - len(sendable), "json", "A logged turn cannot be sent as JSON; dropped."
            )
        if not sendable:
            return
        path = f"/api/sessions/{quote(session_id, safe='')}/turns"
        try:
            self._until_settled(lambda: self._attempt(http, Call("POST", path), content=body))
        except Halted:
            raise
        except UnprocessableEntityError as error:
            refused = _refused_items(error, len(sendable))
            if not refused:
                self._give_up(len(sendable), "422", f"A batch of turns was refused: {error}")
                return
            self._give_up(len(refused), "422", f"Logged turns were refused and dropped: {error}")
            self._post_turns(http, session_id, [t for i, t in enumerate(sendable) if i not in refused])
        except APIStatusError as error:
            if error.status_code == 413 and len(sendable) > 1:
                half = len(sendable) // 2
                self._post_turns(http, session_id, sendable[:half])
                self._post_turns(http, session_id, sendable[half:])
                return
            self._give_up(len(sendable), f"turns:{error.code}", f"Logged turns were refused: {error}")
        except ProvenantError as error:
            self._give_up(len(sendable), f"turns:{error.code}", f"Logged turns were not sent: {error}")

    def _end(self, http: httpx.Client, session_id: str, end: End) -> None:
        call = Call("POST", f"/api/sessions/{quote(session_id, safe='')}/end", json={"status": end.status})
        try:
            self._until_settled(lambda: self._attempt(http, call))
        except Halted:
            raise
        except ProvenantError as error:
            if error.code != "session_ended":
                self._warn(f"end:{error.code}", f"A session could not be ended: {error}")

    def _attempt(self, http: httpx.Client, call: Call, content: bytes | None = None) -> httpx.Response:
        """One request, no retry; the 2xx response or the exception for what happened."""
        if content is None:
            request = http.build_request(call.method, call.path, json=call.json)
        else:
            request = http.build_request(
                call.method, call.path, content=content, headers={"Content-Type": "application/json"}
            )
        try:
            outcome: httpx.Response | httpx.TransportError = http.send(request)
        except httpx.TransportError as error:
            outcome = error
        return settle(request, outcome)

    def _until_settled(self, attempt: Callable[[], T]) -> T:
        """``attempt()`` again and again while the server is away; raises the final refusal, or `Halted`."""
        retries = server_errors = 0
        while True:
            try:
                return attempt()
            except APIConnectionError:
                delay: float | None = _retry.backoff(min(retries, 4))
            except APIStatusError as error:
                if error.status_code in _UNAVAILABLE:
                    asked = _retry.parse_retry_after(error.headers.get("retry-after"))
                    delay = (
                        _retry.backoff(min(retries, 4))
                        if asked is None
                        else min(asked, _retry.MAX_RETRY_AFTER)
                    )
                elif error.status_code >= 500 and server_errors < SERVER_ERROR_RETRIES:
                    server_errors += 1
                    delay = _retry.backoff(min(retries, 4))
                else:
                    raise
            logger.info("Provenant: sending queued turns again in %.2fs", delay)
            if self._halt.wait(delay):
                raise Halted
            retries += 1

    def _give_up_turns(self, items: list[Any]) -> None:
        with self._lock:
            self.undelivered += sum(1 for item in items if isinstance(item, dict))

    def _give_up(self, count: int, kind: str, message: str) -> None:
        with self._lock:
            self.undelivered += count
        self._warn(kind, message)

    def _after_fork_in_child(self) -> None:
        # The parent's queue is the parent's to send; its thread and sockets did not come along.
        self._reset()


def _encode(turns: list[dict[str, Any]]) -> tuple[bytes, list[dict[str, Any]]]:
    """The JSON array of the turns that can be sent, and those turns."""
    try:
        return _dumps(turns), turns
    except (TypeError, ValueError):
        pass
    sendable = []
    for turn in turns:
        try:
            _dumps(turn)
        except (TypeError, ValueError):
            continue
        sendable.append(turn)
    return _dumps(sendable), sendable


def _dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False).encode()


def _refused_items(error: UnprocessableEntityError, count: int) -> set[int]:
    """The indexes of a batch's items a 422 names (``details[].field`` like ``[3].role``)."""
    refused = set()
    for detail in error.details or []:
        match = _ITEM_INDEX.match(str(detail.get("field", "")))
        if match and int(match.group(1)) < count:
            refused.add(int(match.group(1)))
    return refused


_senders: weakref.WeakSet[Sender] = weakref.WeakSet()
_remotes: weakref.WeakSet[RemoteSession] = weakref.WeakSet()


_hooked_pid = 0


def _flush_at_exit() -> None:
    for sender in list(_senders):
        sender.close(SHUTDOWN_TIMEOUT)


def _flush_at_exit_of_this_process() -> None:
    """atexit covers a normal exit. A multiprocessing child ends with ``os._exit``, which skips atexit but
    runs multiprocessing's own exit hooks, so the flush is registered there too (once per process; it runs
    once, since `Sender.close` does its work once)."""
    global _hooked_pid
    if _hooked_pid == os.getpid():
        return
    _hooked_pid = os.getpid()
    multiprocessing_util = sys.modules.get("multiprocessing.util")
    if multiprocessing_util is not None:
        multiprocessing_util.Finalize(None, _flush_at_exit, exitpriority=0)


def _after_fork_in_child() -> None:
    for sender in list(_senders):
        sender._after_fork_in_child()
    for remote in list(_remotes):
        remote._reset_locks()


atexit.register(_flush_at_exit)
os.register_at_fork(after_in_child=_after_fork_in_child)
