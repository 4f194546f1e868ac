"""`ProvenantClient` and `AsyncProvenantClient`: the same resources and methods, one blocking, one awaitable.

Every optional argument is keyword-only. Results are the server's JSON as plain dicts (camelCase keys), typed
with the TypedDicts in `provenant_sdk.types`. The flat methods (``client.list_agents``) are other names for
the resources' methods (``client.agents.list``), kept for code written before the resources.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from types import TracebackType
from typing import Any, Self, cast

import httpx

from provenant_sdk import _calls
from provenant_sdk._background import SHUTDOWN_TIMEOUT
from provenant_sdk._base import BaseClient
from provenant_sdk._errors import ConflictError, ProvenantError
from provenant_sdk._http import (
    DEFAULT_MAX_QUEUED_TURNS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    Call,
    decode,
    send_async,
    send_sync,
)
from provenant_sdk._paging import Page, next_cursor
from provenant_sdk._resources import flat
from provenant_sdk._resources.agents import Agents, AsyncAgents
from provenant_sdk._resources.api_keys import ApiKeys, AsyncApiKeys
from provenant_sdk._resources.audit import AsyncAudit, Audit
from provenant_sdk._resources.sessions import AsyncSessions, Sessions
from provenant_sdk._resources.team import AsyncInvitations, AsyncMembers, Invitations, Members
from provenant_sdk._session import LiveSession
from provenant_sdk.types import EndStatus, Me, Metadata


class ProvenantClient(BaseClient):
    """A Provenant API client with its own connection pool; close it, or use it as a context manager.

    ``base_url`` and ``api_key`` default to ``PROVENANT_URL`` and ``PROVENANT_API_KEY``; when neither gives
    one, `ProvenantError` is raised (code ``missing_base_url`` or ``missing_api_key``). ``timeout`` is in
    seconds; ``max_retries`` is how many times a failed request that is safe to repeat is tried again.
    ``max_queued_turns`` bounds background mode's queue. ``transport`` replaces the HTTP transport, e.g.
    with ``httpx.MockTransport`` in your own tests.
    """

    _http: httpx.Client

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_queued_turns: int = DEFAULT_MAX_QUEUED_TURNS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            max_queued_turns=max_queued_turns,
            sender_transport=transport,
        )
        settings = self._settings
        self._http = httpx.Client(
            base_url=settings.base_url,
            headers=settings.headers,
            auth=settings.auth,
            timeout=settings.timeout,
            transport=transport,
        )
        self.agents = Agents(self)
        self.sessions = Sessions(self)
        self.api_keys = ApiKeys(self)
        self.members = Members(self)
        self.invitations = Invitations(self)
        self.audit = Audit(self)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every turn logged so far is sent or given up on; False if ``timeout`` ran out first."""
        return self._sender.flush(timeout)

    def close(self, *, timeout: float | None = SHUTDOWN_TIMEOUT) -> None:
        """Send the turns still queued, waiting at most ``timeout`` seconds; then close the connections."""
        self._sender.close(timeout)
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
        return decode(send_sync(self._http, call, self.max_retries))

    def _page(self, call: Call) -> Page[Any]:
        response = send_sync(self._http, call, self.max_retries)
        return cast(list[Any], decode(response)), next_cursor(response)

    def _lines(self, call: Call) -> Iterator[Any]:
        response = send_sync(self._http, call, self.max_retries, stream=True)
        try:
            for line in response.iter_lines():
                if line.strip():
                    yield json.loads(line)
        finally:
            response.close()

    def me(self) -> Me:
        """The user behind the key, their role and organization, and the key itself (``apiKey``)."""
        return cast(Me, self._request(_calls.me()))

    list_api_keys = flat("api_keys", ApiKeys.list)
    create_api_key = flat("api_keys", ApiKeys.create)
    revoke_api_key = flat("api_keys", ApiKeys.revoke)
    roll_api_key = flat("api_keys", ApiKeys.roll)
    api_key_usage = flat("api_keys", ApiKeys.usage)

    list_agents = flat("agents", Agents.list)
    get_agent = flat("agents", Agents.get)
    create_agent = flat("agents", Agents.create)
    update_agent = flat("agents", Agents.update)
    archive_agent = flat("agents", Agents.archive)

    def get_or_create_agent(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        model_family: str | None = None,
    ) -> str:
        """The id of the agent whose slug derives from ``name``, created if there is none
        (`agents.get_or_create` returns the whole agent)."""
        agent = self.agents.get_or_create(name, description=description, tags=tags, model_family=model_family)
        return agent["id"]

    list_sessions = flat("sessions", Sessions.list)
    create_session = flat("sessions", Sessions.create)
    get_session = flat("sessions", Sessions.get)
    update_session = flat("sessions", Sessions.update)
    delete_session = flat("sessions", Sessions.delete)
    add_turn = flat("sessions", Sessions.add_turn)
    add_turns = flat("sessions", Sessions.add_turns)
    end_session = flat("sessions", Sessions.end)

    list_members = flat("members", Members.list)
    change_member_role = flat("members", Members.change_role)
    remove_member = flat("members", Members.remove)

    list_invitations = flat("invitations", Invitations.list)
    create_invitation = flat("invitations", Invitations.create)
    cancel_invitation = flat("invitations", Invitations.cancel)

    list_audit_entries = flat("audit", Audit.list)
    export_audit_log = flat("audit", Audit.export)

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
    ) -> Iterator[LiveSession]:
        """A session for the block: created, fed with ``s.log_turn(...)`` and ended (COMPLETED, or FAILED when
        the block raises, which is re-raised) in the background; see `LiveSession` for code that reads it."""
        session = self._live_session(
            agent_id, external_id, user_id, metadata, tags, agent_version_id, environment_id, self._request
        )
        try:
            yield session
        except BaseException as exc:
            if not self._runs_in_foreground(session):
                session.end(status="FAILED")
            else:
                try:
                    self._end_in_foreground(session, "FAILED")
                except ProvenantError as end_error:
                    exc.add_note(f"Ending the Provenant session as FAILED failed too: {end_error}")
            raise
        if not self._runs_in_foreground(session):
            session.end()
            return
        try:
            self._end_in_foreground(session, "COMPLETED")
        except ConflictError as error:
            if error.code != "session_ended":  # the block ended it itself
                raise

    def _end_in_foreground(self, session: LiveSession, status: EndStatus) -> None:
        if self._sender.pending():  # turns logged by id go first
            self._sender.flush(SHUTDOWN_TIMEOUT)
        self.sessions.end(session.id, status=status)


class AsyncProvenantClient(BaseClient):
    """`ProvenantClient` for asyncio: the same arguments, resources and methods, awaitable.

    Lists return an `AsyncPagedList` (``async for`` over every item, or ``await`` for a list). `log_turn` and
    ``s.log_turn`` are plain calls that return at once; a thread sends the turns, as for the sync client.
    """

    _http: httpx.AsyncClient

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_queued_turns: int = DEFAULT_MAX_QUEUED_TURNS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            max_queued_turns=max_queued_turns,
            sender_transport=None,
        )
        settings = self._settings
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            headers=settings.headers,
            auth=settings.auth,
            timeout=settings.timeout,
            transport=transport,
        )
        self.agents = AsyncAgents(self)
        self.sessions = AsyncSessions(self)
        self.api_keys = AsyncApiKeys(self)
        self.members = AsyncMembers(self)
        self.invitations = AsyncInvitations(self)
        self.audit = AsyncAudit(self)

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait until every turn logged so far is sent or given up on; False if ``timeout`` ran out first."""
        return await asyncio.to_thread(self._sender.flush, timeout)

    async def close(self, *, timeout: float | None = SHUTDOWN_TIMEOUT) -> None:
        """Send the turns still queued, waiting at most ``timeout`` seconds; then close the connections."""
        await asyncio.to_thread(self._sender.close, timeout)
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
        return decode(await send_async(self._http, call, self.max_retries))

    async def _page(self, call: Call) -> Page[Any]:
        response = await send_async(self._http, call, self.max_retries)
        return cast(list[Any], decode(response)), next_cursor(response)

    async def _lines(self, call: Call) -> AsyncIterator[Any]:
        response = await send_async(self._http, call, self.max_retries, stream=True)
        try:
            async for line in response.aiter_lines():
                if line.strip():
                    yield json.loads(line)
        finally:
            await response.aclose()

    def _create_now(self, call: Call) -> Any:
        # Reading a session handle is synchronous, so it creates the session on the sender's blocking pool.
        return decode(send_sync(self._sender.http(), call, self.max_retries))

    async def me(self) -> Me:
        """The user behind the key, their role and organization, and the key itself (``apiKey``)."""
        return cast(Me, await self._request(_calls.me()))

    list_api_keys = flat("api_keys", AsyncApiKeys.list)
    create_api_key = flat("api_keys", AsyncApiKeys.create)
    revoke_api_key = flat("api_keys", AsyncApiKeys.revoke)
    roll_api_key = flat("api_keys", AsyncApiKeys.roll)
    api_key_usage = flat("api_keys", AsyncApiKeys.usage)

    list_agents = flat("agents", AsyncAgents.list)
    get_agent = flat("agents", AsyncAgents.get)
    create_agent = flat("agents", AsyncAgents.create)
    update_agent = flat("agents", AsyncAgents.update)
    archive_agent = flat("agents", AsyncAgents.archive)

    async def get_or_create_agent(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        model_family: str | None = None,
    ) -> str:
        """The id of the agent whose slug derives from ``name``, created if there is none."""
        agent = await self.agents.get_or_create(
            name, description=description, tags=tags, model_family=model_family
        )
        return agent["id"]

    list_sessions = flat("sessions", AsyncSessions.list)
    create_session = flat("sessions", AsyncSessions.create)
    get_session = flat("sessions", AsyncSessions.get)
    update_session = flat("sessions", AsyncSessions.update)
    delete_session = flat("sessions", AsyncSessions.delete)
    add_turn = flat("sessions", AsyncSessions.add_turn)
    add_turns = flat("sessions", AsyncSessions.add_turns)
    end_session = flat("sessions", AsyncSessions.end)

    list_members = flat("members", AsyncMembers.list)
    change_member_role = flat("members", AsyncMembers.change_role)
    remove_member = flat("members", AsyncMembers.remove)

    list_invitations = flat("invitations", AsyncInvitations.list)
    create_invitation = flat("invitations", AsyncInvitations.create)
    cancel_invitation = flat("invitations", AsyncInvitations.cancel)

    list_audit_entries = flat("audit", AsyncAudit.list)
    export_audit_log = flat("audit", AsyncAudit.export)

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
    ) -> AsyncIterator[LiveSession]:
        """`ProvenantClient.session` for asyncio. Reading the handle (``s["id"]``) waits for the session's
        creation without yielding to the event loop; ``await client.create_session(...)`` yields."""
        session = self._live_session(
            agent_id, external_id, user_id, metadata, tags, agent_version_id, environment_id, self._create_now
        )
        try:
            yield session
        except BaseException as exc:
            if not self._runs_in_foreground(session):
                session.end(status="FAILED")
            else:
                try:
                    await self._end_in_foreground(session, "FAILED")
                except ProvenantError as end_error:
                    exc.add_note(f"Ending the Provenant session as FAILED failed too: {end_error}")
            raise
        if not self._runs_in_foreground(session):
            session.end()
            return
        try:
            await self._end_in_foreground(session, "COMPLETED")
        except ConflictError as error:
            if error.code != "session_ended":
                raise

    async def _end_in_foreground(self, session: LiveSession, status: EndStatus) -> None:
        if self._sender.pending():
            await asyncio.to_thread(self._sender.flush, SHUTDOWN_TIMEOUT)
        await self.sessions.end(session.id, status=status)
