"""`ProvenantClient` and `AsyncProvenantClient`: the same methods, one blocking, one awaitable.

Every optional argument is keyword-only. Results are the server's JSON as plain dicts (camelCase keys), typed
with the TypedDicts in `provenant_sdk.types`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, Self, cast

import httpx

from provenant_sdk import _calls
from provenant_sdk._base import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, BaseClient, Call
from provenant_sdk._errors import ConflictError, ProvenantError
from provenant_sdk.types import (
    Agent,
    AgentStatus,
    ApiKey,
    CreatedApiKey,
    EndStatus,
    Me,
    Metadata,
    Session,
    SessionWithTurns,
    Success,
    Turn,
    TurnRole,
)


class ProvenantClient(BaseClient):
    """A Provenant API client with its own connection pool; close it, or use it as a context manager.

    ``base_url`` and ``api_key`` default to ``PROVENANT_URL`` and ``PROVENANT_API_KEY``; when neither gives
    one, `ProvenantError` is raised (code ``missing_base_url`` or ``missing_api_key``). ``timeout`` is in
    seconds; ``max_retries`` is how many times a failed request that is safe to repeat is tried again.
    ``transport`` replaces the HTTP transport, e.g. with ``httpx.MockTransport`` in your own tests.
    """

    _http: httpx.Client

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url=base_url, api_key=api_key, max_retries=max_retries)
        self._http = httpx.Client(
            base_url=self.base_url, headers=self._headers, timeout=self._timeout(timeout), transport=transport
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _request(self, call: Call) -> Any:
        request = self._build_request(call)
        retries_done = 0
        while True:
            try:
                outcome: httpx.Response | httpx.TransportError = self._http.send(request)
            except httpx.TransportError as error:
                outcome = error
            delay = self._retry_delay(request, outcome, retries_done)
            if delay is None:
                return self._result(request, outcome)
            time.sleep(delay)
            retries_done += 1

    # Who am I

    def me(self) -> Me:
        """The user behind the key, their role and organization, and the key itself (``apiKey``)."""
        return cast(Me, self._request(_calls.me()))

    # API keys

    def list_api_keys(self, *, include_revoked: bool = False) -> list[ApiKey]:
        """Keys the caller may see (OWNER and ADMIN: all of the org's; others: their own), newest first."""
        return cast(list[ApiKey], self._request(_calls.list_api_keys(include_revoked)))

    def create_api_key(self, name: str, *, expires_at: datetime | str | None = None) -> CreatedApiKey:
        """A new key; ``key`` in the result is the only copy of it. A naive ``expires_at`` is taken as UTC."""
        return cast(CreatedApiKey, self._request(_calls.create_api_key(name, expires_at)))

    def revoke_api_key(self, key_id: str) -> Success:
        """Revoke a key for good, at once; revoking it again is harmless."""
        return cast(Success, self._request(_calls.revoke_api_key(key_id)))

    # Agents

    def list_agents(self, *, status: AgentStatus | None = None) -> list[Agent]:
        """The organization's agents, most recently updated first."""
        return cast(list[Agent], self._request(_calls.list_agents(status)))

    def get_agent(self, agent_id: str) -> Agent:
        return cast(Agent, self._request(_calls.get_agent(agent_id)))

    def create_agent(
        self,
        name: str,
        slug: str,
        *,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        model_family: str | None = None,
    ) -> Agent:
        """A new agent; `ConflictError` if the slug is taken in the organization."""
        call = _calls.create_agent(name, slug, description, tags, model_family)
        return cast(Agent, self._request(call))

    def get_or_create_agent(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        model_family: str | None = None,
    ) -> str:
        """The id of the agent whose slug derives from ``name``, created if there is none."""
        agent = cast(Agent, self._request(_calls.get_or_create_agent(name, description, tags, model_family)))
        return agent["id"]

    # Sessions

    def create_session(
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
        return cast(Session, self._request(call))

    def get_session(self, session_id: str) -> SessionWithTurns:
        """A session with its ``turns`` in order."""
        return cast(SessionWithTurns, self._request(_calls.get_session(session_id)))

    def add_turn(
        self,
        session_id: str,
        role: TurnRole,
        content: str | dict[str, Any] | list[Any],
        *,
        tool_calls: Any = None,
        latency_ms: int | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        metadata: Metadata | None = None,
    ) -> Turn:
        """Record a turn; once this returns it is durably stored. `ConflictError` if the session has ended."""
        call = _calls.add_turn(
            session_id, role, content, tool_calls, latency_ms, input_tokens, output_tokens, metadata
        )
        return cast(Turn, self._request(call))

    def end_session(
        self,
        session_id: str,
        *,
        status: EndStatus = "COMPLETED",
        total_tokens: int | None = None,
        total_latency_ms: int | None = None,
    ) -> Session:
        """End a session; ``status`` is COMPLETED or FAILED."""
        call = _calls.end_session(session_id, status, total_tokens, total_latency_ms)
        return cast(Session, self._request(call))

    @contextmanager
    def session(
        self,
        agent_id: str,
        *,
        external_id: str | None = None,
        user_id: str | None = None,
        metadata: Metadata | None = None,
        tags: Sequence[str] | None = None,
        agent_version_id: str | None = None,
        environment_id: str | None = None,
    ) -> Iterator[Session]:
        """Create a session, yield it, and end it: COMPLETED, or FAILED when the block raises (re-raised)."""
        session = self.create_session(
            agent_id,
            external_id=external_id,
            user_id=user_id,
            metadata=metadata,
            tags=tags,
            agent_version_id=agent_version_id,
            environment_id=environment_id,
        )
        try:
            yield session
        except BaseException as exc:
            try:
                self.end_session(session["id"], status="FAILED")
            except ProvenantError as end_error:
                exc.add_note(f"Ending Provenant session {session['id']} as FAILED failed too: {end_error}")
            raise
        try:
            self.end_session(session["id"], status="COMPLETED")
        except ConflictError as error:
            if error.code != "session_ended":  # the block ended it itself
                raise


class AsyncProvenantClient(BaseClient):
    """`ProvenantClient` for asyncio: the same arguments and methods, awaitable."""

    _http: httpx.AsyncClient

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url=base_url, api_key=api_key, max_retries=max_retries)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self._headers, timeout=self._timeout(timeout), transport=transport
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _request(self, call: Call) -> Any:
        request = self._build_request(call)
        retries_done = 0
        while True:
            try:
                outcome: httpx.Response | httpx.TransportError = await self._http.send(request)
            except httpx.TransportError as error:
                outcome = error
            delay = self._retry_delay(request, outcome, retries_done)
            if delay is None:
                return self._result(request, outcome)
            await asyncio.sleep(delay)
            retries_done += 1

    async def me(self) -> Me:
        return cast(Me, await self._request(_calls.me()))

    async def list_api_keys(self, *, include_revoked: bool = False) -> list[ApiKey]:
        return cast(list[ApiKey], await self._request(_calls.list_api_keys(include_revoked)))

    async def create_api_key(self, name: str, *, expires_at: datetime | str | None = None) -> CreatedApiKey:
        return cast(CreatedApiKey, await self._request(_calls.create_api_key(name, expires_at)))

    async def revoke_api_key(self, key_id: str) -> Success:
        return cast(Success, await self._request(_calls.revoke_api_key(key_id)))

    async def list_agents(self, *, status: AgentStatus | None = None) -> list[Agent]:
        return cast(list[Agent], await self._request(_calls.list_agents(status)))

    async def get_agent(self, agent_id: str) -> Agent:
        return cast(Agent, await self._request(_calls.get_agent(agent_id)))

    async def create_agent(
        self,
        name: str,
        slug: str,
        *,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        model_family: str | None = None,
    ) -> Agent:
        call = _calls.create_agent(name, slug, description, tags, model_family)
        return cast(Agent, await self._request(call))

    async def get_or_create_agent(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        model_family: str | None = None,
    ) -> str:
        call = _calls.get_or_create_agent(name, description, tags, model_family)
        agent = cast(Agent, await self._request(call))
        return agent["id"]

    async def create_session(
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
        return cast(Session, await self._request(call))

    async def get_session(self, session_id: str) -> SessionWithTurns:
        return cast(SessionWithTurns, await self._request(_calls.get_session(session_id)))

    async def add_turn(
        self,
        session_id: str,
        role: TurnRole,
        content: str | dict[str, Any] | list[Any],
        *,
        tool_calls: Any = None,
        latency_ms: int | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        metadata: Metadata | None = None,
    ) -> Turn:
        call = _calls.add_turn(
            session_id, role, content, tool_calls, latency_ms, input_tokens, output_tokens, metadata
        )
        return cast(Turn, await self._request(call))

    async def end_session(
        self,
        session_id: str,
        *,
        status: EndStatus = "COMPLETED",
        total_tokens: int | None = None,
        total_latency_ms: int | None = None,
    ) -> Session:
        call = _calls.end_session(session_id, status, total_tokens, total_latency_ms)
        return cast(Session, await self._request(call))

    @asynccontextmanager
    async def session(
        self,
        agent_id: str,
        *,
        external_id: str | None = None,
        user_id: str | None = None,
        metadata: Metadata | None = None,
        tags: Sequence[str] | None = None,
        agent_version_id: str | None = None,
        environment_id: str | None = None,
    ) -> AsyncIterator[Session]:
        session = await self.create_session(
            agent_id,
            external_id=external_id,
            user_id=user_id,
            metadata=metadata,
            tags=tags,
            agent_version_id=agent_version_id,
            environment_id=environment_id,
        )
        try:
            yield session
        except BaseException as exc:
            try:
                await self.end_session(session["id"], status="FAILED")
            except ProvenantError as end_error:
                exc.add_note(f"Ending Provenant session {session['id']} as FAILED failed too: {end_error}")
            raise
        try:
            await self.end_session(session["id"], status="COMPLETED")
        except ConflictError as error:
            if error.code != "session_ended":
                raise
