"""What `client.session()` yields: a handle to a session that is created, fed and ended in the background.

Entering the block queues the session's creation and returns. ``s.log_turn(...)`` queues a turn. Leaving the
block queues the end (COMPLETED, or FAILED when the block raised). None of the three waits for the server or
raises into the agent.

Code written before background mode reads the session (``s["id"]``, ``s["status"]``) and logs nothing with
``s.log_turn``. Reading waits until the session exists (creating it at once if the sender has not yet), and
raises as `create_session` would when it cannot be created. A block that logged nothing with `log_turn` ends
its session before it is left, as blocks always did, and raises if that fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from uuid import uuid4

from provenant_sdk._background import CREATE, RemoteSession, Sender
from provenant_sdk._http import Call
from provenant_sdk.types import Metadata, TurnRole


class LiveSession(Mapping[str, Any]):
    """A session being logged in the background; reads as the `Session` the server created."""

    def __init__(self, sender: Sender, create: Call, create_now: Callable[[Call], dict[str, Any]]) -> None:
        self._sender = sender
        self._remote = RemoteSession(create)
        self._create_now = create_now
        self.logged = False
        """`log_turn` was called: the block is left without waiting; its end is queued."""
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
        log_turn(
            self._sender, self, role, content, tool_calls, latency_ms, input_tokens, output_tokens, metadata
        )

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
    """The hot path of background mode: a dict, a uuid and an append (fields spelled out: runs per turn)."""
    try:
        turn: dict[str, Any] = {"clientId": uuid4().hex, "role": role, "content": content}
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
        if isinstance(session, LiveSession):
            session.logged = True
        sender.put(session, turn)
    except Exception as error:  # logging a turn never raises into the agent
        sender.drop("error", f"A turn could not be queued and was dropped: {type(error).__name__}: {error}")
