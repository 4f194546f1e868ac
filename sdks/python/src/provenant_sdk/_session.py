"""Logging turns in the background: what `client.session()` yields, and the one function that queues a turn.

Entering ``with client.session(agent_id) as s`` queues the session's creation and returns. ``s.log_turn(...)``
queues a turn. Leaving the block (or ``s.end(...)``) queues the end: COMPLETED, or FAILED when the block
raised. None of them waits for the server or raises into the agent.

Code written before background mode reads the session (``s["id"]``, ``s["status"]``) and logs nothing with
``s.log_turn``. Reading waits until the session exists (creating it at once if the sender has not yet), and
raises as `create_session` would when it cannot be created. A block that logged nothing with `log_turn`
ends its session before it is left, as blocks always did, and raises if that fails.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from provenant_sdk._background import CREATE, End, RemoteSession, Sender
from provenant_sdk._http import Call
from provenant_sdk.types import EndStatus, Metadata, TurnRole

_ROLES = frozenset({"USER", "ASSISTANT", "SYSTEM", "TOOL"})
# Built once: json.dumps with options builds an encoder per call. NaN and Infinity are not JSON.
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class LiveSession(Mapping[str, Any]):
    """A session logged in the background; reads as the `Session` the server created."""

    def __init__(self, sender: Sender, create: Call, create_now: Callable[[Call], dict[str, Any]]) -> None:
        self._sender = sender
        self._remote = RemoteSession(create)
        self._create_now = create_now
        self.in_background = False
        """`log_turn` or `end` was called: the block is left without waiting."""
        self.ended = False
        sender.put_control(self, CREATE)

    def log_turn(
        self,
        role: TurnRole,
        content: str | dict[str, Any] | list[Any],
        *,
        tool_calls: Any = None,
        latency_ms: int | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        metadata: Metadata | None = None,
    ) -> None:
        """Queue a turn of this session and return at once; see `ProvenantClient.log_turn`."""
        self.in_background = True
        if self.ended:
            self._sender.drop(1, "ended", "A turn logged after its session was ended was dropped.")
            return
        log_turn(
            self._sender, self, role, content, tool_calls, latency_ms, input_tokens, output_tokens, metadata
        )

    def end(
        self,
        *,
        status: EndStatus = "COMPLETED",
        total_tokens: int | None = None,
        total_latency_ms: int | None = None,
    ) -> None:
        """Queue the session's end behind its turns and return at once; the block then ends it no more."""
        self.in_background = True
        if self.ended:
            return
        self.ended = True
        body: dict[str, Any] = {"status": status}
        if total_tokens is not None:
            body["totalTokens"] = total_tokens
        if total_latency_ms is not None:
            body["totalLatencyMs"] = total_latency_ms
        self._sender.put_control(self, End(body))

    @property
    def id(self) -> str:
        """The server's id of the session (waits for its creation)."""
        return str(self["id"])

    def _session(self) -> dict[str, Any]:
        remote = self._remote
        return remote.session if remote.session is not None else remote.create(self._create_now)

    def __getitem__(self, key: str) -> Any:
        return self._session()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._session())

    def __len__(self) -> int:
        return len(self._session())

    def __repr__(self) -> str:
        session = self._remote.session
        state = f"id={session['id']!r}" if session is not None else "not created yet"
        return f"LiveSession({state})"


def log_turn(
    sender: Sender,
    session: str | LiveSession,
    role: TurnRole,
    content: Any,
    tool_calls: Any,
    latency_ms: int | None,
    input_tokens: int | None,
    output_tokens: int | None,
    metadata: Metadata | None,
) -> None:
    """Background mode's hot path: check, encode, append. The turn is encoded now, so what was logged is what
    is sent even if the caller's objects change later. Never raises."""
    try:
        if role not in _ROLES or content is None:
            sender.drop(
                1,
                "invalid_turn",
                "A turn without a role (USER, ASSISTANT, SYSTEM, TOOL) or content was dropped.",
            )
            return
        # 128 random bits as the idempotency id, like uuid4().hex without building a UUID (5 µs -> 1 µs here).
        turn: dict[str, Any] = {"clientId": secrets.token_hex(16), "role": role, "content": content}
        if tool_calls is not None:
            turn["toolCalls"] = tool_calls
        if latency_ms is not None:
            turn["latencyMs"] = latency_ms
        if input_tokens is not None:
            turn["inputTokens"] = input_tokens
        if output_tokens is not None:
            turn["outputTokens"] = output_tokens
        if metadata is not None:
            turn["metadata"] = metadata
        sender.put(session, _encode(turn))
    except (TypeError, ValueError) as error:
        sender.drop(1, "not_json", f"A turn that cannot be sent as JSON was dropped: {error}")
    except Exception as error:  # logging a turn never raises into the agent
        sender.drop(
            1, "error", f"A turn could not be queued and was dropped: {type(error).__name__}: {error}"
        )
