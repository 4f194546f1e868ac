"""``client.sessions``: sessions and their turns, one blocking call each (background mode is `log_turn`)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from provenant_sdk import _calls
from provenant_sdk._paging import AsyncPagedList, PagedList
from provenant_sdk._resources import AsyncRequester, Requester
from provenant_sdk.types import (
    EndStatus,
    Metadata,
    Session,
    SessionStatus,
    SessionWithTurns,
    Success,
    Turn,
    TurnInput,
    TurnRole,
)

Content = str | dict[str, Any] | builtins.list[Any]


class Sessions:
    def __init__(self, client: Requester) -> None:
        self._client = client

    def list(
        self,
        *,
        agent_id: str | None = None,
        status: SessionStatus | None = None,
        q: str | None = None,
        limit: int | None = None,
    ) -> PagedList[Session]:
        """Sessions (the first ``limit``, or all) newest first; ``q``: text in any turn, any case."""
        return PagedList(self._client._page, _calls.list_sessions(agent_id, status, q), limit)

    def create(
        self,
        agent_id: str,
        *,
        external_id: str | None = None,
        user_id: str | None = None,
        metadata: Metadata | None = None,
        tags: Sequence[str] | None = None,
        agent_version_id: str | None = None,
        environment_id: str | None = None,
    ) -> Session:
        """Start a session (``status: "ACTIVE"``)."""
        call = _calls.create_session(
            agent_id, external_id, user_id, metadata, tags, agent_version_id, environment_id
        )
        return cast(Session, self._client._request(call))

    def get(self, session_id: str) -> SessionWithTurns:
        """A session with its ``turns`` in order."""
        return cast(SessionWithTurns, self._client._request(_calls.get_session(session_id)))

    def update(
        self, session_id: str, *, status: SessionStatus | None = None, ended_at: datetime | str | None = None
    ) -> Session:
        """How older clients end a session; `end` says more."""
        return cast(Session, self._client._request(_calls.update_session(session_id, status, ended_at)))

    def delete(self, session_id: str) -> Success:
        """Delete the session and its turns."""
        return cast(Success, self._client._request(_calls.delete_session(session_id)))

    def add_turn(
        self,
        session_id: str,
        role: TurnRole,
        content: Content,
        *,
        tool_calls: Any = None,
        latency_ms: int | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        metadata: Metadata | None = None,
    ) -> Turn:
        """Record a turn; once this returns it is durably stored. `ConflictError` if the session has ended."""
        body = _calls.turn(role, content, tool_calls, latency_ms, input_tokens, output_tokens, metadata)
        return cast(Turn, self._client._request(_calls.add_turn(session_id, body)))

    def add_turns(
        self, session_id: str, turns: Sequence[TurnInput | Mapping[str, Any]]
    ) -> builtins.list[Turn]:
        """Record 1 to 500 turns (camelCase dicts, as on the wire) at once, all or none, in order. A batch
        whose every turn has a ``clientId`` is retried like a GET: the server stores each clientId once."""
        return cast(builtins.list[Turn], self._client._request(_calls.add_turns(session_id, turns)))

    def end(
        self,
        session_id: str,
        *,
        status: EndStatus = "COMPLETED",
        total_tokens: int | None = None,
        total_latency_ms: int | None = None,
    ) -> Session:
        """End a session; ``status`` is COMPLETED or FAILED. Ending an ended session returns it unchanged."""
        call = _calls.end_session(session_id, status, total_tokens, total_latency_ms)
        return cast(Session, self._client._request(call))


class AsyncSessions:
    def __init__(self, client: AsyncRequester) -> None:
        self._client = client

    def list(
        self,
        *,
        agent_id: str | None = None,
        status: SessionStatus | None = None,
        q: str | None = None,
        limit: int | None = None,
    ) -> AsyncPagedList[Session]:
        return AsyncPagedList(self._client._page, _calls.list_sessions(agent_id, status, q), limit)

    async def create(
        self,
        agent_id: str,
        *,
        external_id: str | None = None,
        user_id: str | None = None,
        metadata: Metadata | None = None,
        tags: Sequence[str] | None = None,
        agent_version_id: str | None = None,
        environment_id: str | None = None,
    ) -> Session:
        call = _calls.create_session(
            agent_id, external_id, user_id, metadata, tags, agent_version_id, environment_id
        )
        return cast(Session, await self._client._request(call))

    async def get(self, session_id: str) -> SessionWithTurns:
        return cast(SessionWithTurns, await self._client._request(_calls.get_session(session_id)))

    async def update(
        self, session_id: str, *, status: SessionStatus | None = None, ended_at: datetime | str | None = None
    ) -> Session:
        return cast(Session, await self._client._request(_calls.update_session(session_id, status, ended_at)))

    async def delete(self, session_id: str) -> Success:
        return cast(Success, await self._client._request(_calls.delete_session(session_id)))

    async def add_turn(
        self,
        session_id: str,
        role: TurnRole,
        content: Content,
        *,
        tool_calls: Any = None,
        latency_ms: int | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        metadata: Metadata | None = None,
    ) -> Turn:
        body = _calls.turn(role, content, tool_calls, latency_ms, input_tokens, output_tokens, metadata)
        return cast(Turn, await self._client._request(_calls.add_turn(session_id, body)))

    async def add_turns(
        self, session_id: str, turns: Sequence[TurnInput | Mapping[str, Any]]
    ) -> builtins.list[Turn]:
        return cast(builtins.list[Turn], await self._client._request(_calls.add_turns(session_id, turns)))

    async def end(
        self,
        session_id: str,
        *,
        status: EndStatus = "COMPLETED",
        total_tokens: int | None = None,
        total_latency_ms: int | None = None,
    ) -> Session:
        call = _calls.end_session(session_id, status, total_tokens, total_latency_ms)
        return cast(Session, await self._client._request(call))
