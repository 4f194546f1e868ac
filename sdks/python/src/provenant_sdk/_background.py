"""Background mode's sender: a bounded queue per client, and one thread that empties it in batches.

`put` is all that logging a turn costs the caller beyond encoding it: a length check and a deque append, with
no lock and no I/O. The thread wakes every INTERVAL seconds, or as soon as BATCH_TURNS items wait, takes up to
MAX_BATCH queued items, groups them by session (keeping their order) and POSTs each group's turns as one JSON
array. Every turn carries a ``clientId``, which the server stores once per session, so a batch whose answer
was lost is sent again without storing anything twice.

A request that got no answer, a 429, 502, 503 or 504 is sent again after a backoff (honouring
``Retry-After``) for as long as it takes: the queue keeps what it accepted while the server is away, and
nothing queued after it is sent meanwhile, so each session's turns arrive in the order they were logged.
Another 5xx is tried SERVER_ERROR_RETRIES more times, then its turns are dropped; any other refusal (401,
403, 404, 409 ``session_ended``, 422) is final. A refusal of the session itself (401, 403, 404, 409) drops
every turn of that session still queued or logged later, unsent, and its end; a 422 drops the item it names,
a 413 halves the batch (the TypeScript SDK's sender answers each status alike). Turns that will not be
stored are counted in ``dropped`` and each kind of failure is logged once as a warning.

The queue holds at most ``max_queued_turns`` items; a turn logged when it is full is dropped, counted, and
the first time logged as a warning. `flush` waits until everything queued before it is settled; `close`
flushes within a timeout and stops the thread; interpreter exit closes every sender still running. In a
child process made by ``fork`` the parent's queue is forgotten (the parent sends it) and the child's first
turn starts the child's own thread.
"""

from __future__ import annotations

import atexit
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
SHUTDOWN_TIMEOUT = 10.0
_UNAVAILABLE = frozenset({429, 502, 503, 504})
# Answers that refuse the session itself, so none of its turns can be stored.
_SESSION_REFUSALS = frozenset({401, 403, 404, 409})
SERVER_ERROR_RETRIES = 5
_ITEM_INDEX = re.compile(r"^\[(\d+)\]")
_QUEUE_FULL = (
    "The queue of turns to send is full ({} items): new turns are dropped until it drains (dropped_turns "
    "counts them). Is the Provenant server reachable?"
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class End:
    """Ending a session, queued behind its turns."""

    body: dict[str, Any]


CREATE = object()
"""Creating a handle's session, queued when its block is entered (so the session starts then)."""


class Halted(Exception):
    """The sender was told to stop before an item was settled."""


class RemoteSession:
    """The server's session behind a `client.session()` handle, created once by whoever needs it first.

    The sender creates it before the handle's first batch; a reader of the handle (``s["id"]``) creates it at
    once if the sender has not. The claim lasts one attempt, so a reader never waits out the sender's backoff.
    """

    def __init__(self, call: Call) -> None:
        self.call = call
        self.session: dict[str, Any] | None = None
        self.error: ProvenantError | None = None  # set when creating it failed for good
        self.reset_locks()
        _remotes.add(self)

    def reset_locks(self) -> None:
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


Target = Any  # a session id (str), or a handle holding a RemoteSession in ``_remote``


class Sender:
    """The queue of one client and the thread that empties it. It holds the client's settings, not the
    client, so what is queued when a client is garbage-collected is sent all the same."""

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
        # Sessions (by path) the server refused, with the kind of refusal: their turns are dropped unsent.
        self._refused: dict[str, str] = {}
        self.dropped = 0

    # The callers' side

    def put(self, target: Target, turn: str) -> None:
        """Queue one turn (its JSON) of ``target``."""
        queue = self._queue
        if self._closed or len(queue) >= self._max:
            self._refuse()
            return
        queue.append((target, turn))
        if self._thread is None:
            self._start()
        elif len(queue) >= BATCH_TURNS and not self._wake.is_set():
            self._wake.set()

    def put_control(self, target: Target, item: Any) -> None:
        """Queue a session's creation or end. When the queue is full it is left out, counting no turn: a
        session is created anyway before its first batch; one whose end is left out stays ACTIVE."""
        if self._closed:
            self._warn("closed", "A session was used after its client was closed; nothing was sent.")
            return
        if len(self._queue) >= self._max:
            self._warn("queue_full", _QUEUE_FULL.format(self._max))
            return
        self._queue.append((target, item))
        if self._thread is None:
            self._start()

    def _refuse(self) -> None:
        if self._closed:
            self.drop(1, "closed", "A turn logged after the client was closed was dropped.")
        else:
            self.drop(1, "queue_full", _QUEUE_FULL.format(self._max))

    def drop(self, count: int, kind: str, message: str) -> None:
        """Count turns that will not be stored, and say why (a warning once per kind)."""
        with self._lock:
            self.dropped += count
        self._warn(kind, message)

    def pending(self) -> bool:
        return bool(self._queue) or bool(self._inflight)

    def flush(self, timeout: float | None) -> bool:
        """Wait until everything queued so far is sent or given up on; False if ``timeout`` ran out first."""
        if not self.pending():
            return True
        if self._halt.is_set():
            return False
        if self._thread is None or not self._thread.is_alive():
            self._start()
        marker = threading.Event()
        self._queue.append((None, marker))
        self._wake.set()
        return marker.wait(timeout)

    def close(self, timeout: float | None) -> None:
        """Send what is queued within ``timeout`` seconds, then stop; what is left is counted as dropped."""
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
            left = sum(1 for _, item in (*self._inflight, *self._queue) if isinstance(item, str))
            self.drop(left, "unsent", f"{left} logged turns were not sent before the client closed.")
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
                    auth=settings.auth,
                    timeout=settings.timeout,
                    transport=self._transport,
                )
            return self._http

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            _close_at_exit_of_this_process()
            thread = threading.Thread(target=self._run, name="provenant-sender", daemon=True)
            try:
                thread.start()
            except RuntimeError as error:  # e.g. at interpreter shutdown: the caller must not see it
                self._warn("thread", f"The sending thread could not start: {error}")
                return
            self._thread = thread

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
            dropped = sum(1 for item in items if isinstance(item, str))
            self.drop(dropped, "no_session", "Turns of a session that could not be created were dropped.")
            return
        path = f"/api/sessions/{quote(session_id, safe='')}"
        run: list[str] = []
        for item in items:
            if isinstance(item, str):
                run.append(item)
            elif isinstance(item, End):
                self._post_turns(http, path, run)
                run = []
                self._end(http, path, item)
        self._post_turns(http, path, run)

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
                f"create:{error.code}", f"A session could not be created; its turns are dropped: {error}"
            )
            return None

    def _post_turns(self, http: httpx.Client, path: str, turns: list[str]) -> None:
        if not turns:
            return
        if path in self._refused:
            self.drop(len(turns), self._refused[path], "Turns of a session the server refused were dropped.")
            return
        body = ("[" + ",".join(turns) + "]").encode()
        try:
            self._until_settled(lambda: self._attempt(http, Call("POST", f"{path}/turns"), body))
        except Halted:
            raise
        except UnprocessableEntityError as error:
            refused = _refused_items(error, len(turns))
            self.drop(len(refused) or len(turns), "422", f"Logged turns were refused: {error}")
            if refused:
                self._post_turns(http, path, [turn for i, turn in enumerate(turns) if i not in refused])
        except APIStatusError as error:
            if error.status_code == 413 and len(turns) > 1:
                half = len(turns) // 2
                self._post_turns(http, path, turns[:half])
                self._post_turns(http, path, turns[half:])
                return
            if error.status_code in _SESSION_REFUSALS:
                self._refused[path] = f"turns:{error.code}"
            self.drop(len(turns), f"turns:{error.code}", f"Logged turns were refused: {error}")
        except ProvenantError as error:
            self.drop(len(turns), f"turns:{error.code}", f"Logged turns were not sent: {error}")

    def _end(self, http: httpx.Client, path: str, end: End) -> None:
        if path in self._refused:
            return
        call = Call("POST", f"{path}/end", json=end.body)
        try:
            self._until_settled(lambda: self._attempt(http, call))
        except Halted:
            raise
        except ProvenantError as error:
            if error.code != "session_ended":
                self._warn(f"end:{error.code}", f"A session could not be ended: {error}")

    def _attempt(self, http: httpx.Client, call: Call, content: bytes | None = None) -> httpx.Response:
        """One request, no retry; the 2xx response or the exception that stands for what happened."""
        if content is None:
            request = http.build_request(call.method, call.path, json=call.json)
        else:
            headers = {"Content-Type": "application/json"}
            request = http.build_request(call.method, call.path, content=content, headers=headers)
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
                delay = _retry.backoff(min(retries, 4))
            except APIStatusError as error:
                if error.status_code >= 500 and error.status_code not in _UNAVAILABLE:
                    if server_errors == SERVER_ERROR_RETRIES:
                        raise
                    server_errors += 1
                elif error.status_code not in _UNAVAILABLE:
                    raise
                asked = _retry.parse_retry_after(error.headers.get("retry-after"))
                delay = (
                    _retry.backoff(min(retries, 4)) if asked is None else min(asked, _retry.MAX_RETRY_AFTER)
                )
            logger.info("Provenant: sending queued turns again in %.2fs", delay)
            if self._halt.wait(delay):
                raise Halted
            retries += 1

    def after_fork_in_child(self) -> None:
        # The parent's queue is the parent's to send; its thread and sockets did not come along.
        self._reset()


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


def _close_all() -> None:
    for sender in list(_senders):
        sender.close(SHUTDOWN_TIMEOUT)


def _close_at_exit_of_this_process() -> None:
    """atexit covers a normal exit. A multiprocessing child ends with ``os._exit``, which skips atexit but
    runs multiprocessing's own exit hooks, so the senders are closed there too (once per process; closing
    twice does nothing the second time)."""
    global _hooked_pid
    if _hooked_pid == os.getpid():
        return
    _hooked_pid = os.getpid()
    multiprocessing_util = sys.modules.get("multiprocessing.util")
    if multiprocessing_util is not None:
        multiprocessing_util.Finalize(None, _close_all, exitpriority=0)


def _after_fork_in_child() -> None:
    for sender in list(_senders):
        sender.after_fork_in_child()
    for remote in list(_remotes):
        remote.reset_locks()


atexit.register(_close_all)
if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)
