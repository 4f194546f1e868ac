"""``client.agents``: the organization's agents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from provenant_sdk import _calls
from provenant_sdk._calls import OMIT, Omit
from provenant_sdk._paging import AsyncPagedList, PagedList
from provenant_sdk._resources import AsyncRequester, Requester
from provenant_sdk.types import Agent, AgentStatus, Success


class Agents:
    def __init__(self, client: Requester) -> None:
        self._client = client

    def list(self, *, status: AgentStatus | None = None, limit: int | None = None) -> PagedList[Agent]:
        """The organization's agents (the first ``limit``, or all), most recently updated first."""
        return PagedList(self._client._page, _calls.list_agents(status), limit)

    def get(self, agent_id: str) -> Agent:
        return cast(Agent, self._client._request(_calls.get_agent(agent_id)))

    def create(
        self,
        name: str,
        slug: str | None = None,
        *,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        model_family: str | None = None,
    ) -> Agent:
        """A new agent; `ConflictError` if the slug is taken in the organization. Without a slug, the server
        derives it from the name, as `get_or_create` does: the agent it then finds."""
        call = _calls.create_agent(name, slug, description, tags, model_family)
        return cast(Agent, self._client._request(call))

    def get_or_create(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        model_family: str | None = None,
    ) -> Agent:
        """The agent whose slug derives from ``name``, created (with these fields) if there is none."""
        call = _calls.get_or_create_agent(name, description, tags, model_family)
        return cast(Agent, self._client._request(call))

    def update(
        self,
        agent_id: str,
        *,
        name: str | Omit = OMIT,
        slug: str | Omit = OMIT,
        description: str | Omit | None = OMIT,
        tags: Sequence[str] | Omit = OMIT,
        model_family: str | Omit | None = OMIT,
    ) -> Agent:
        """Change the fields given; ``None`` clears ``description`` or ``model_family``."""
        call = _calls.update_agent(agent_id, name, slug, description, tags, model_family)
        return cast(Agent, self._client._request(call))

    def archive(self, agent_id: str) -> Success:
        """Set the agent's status to ARCHIVED."""
        return cast(Success, self._client._request(_calls.archive_agent(agent_id)))


class AsyncAgents:
    def __init__(self, client: AsyncRequester) -> None:
        self._client = client

    def list(self, *, status: AgentStatus | None = None, limit: int | None = None) -> AsyncPagedList[Agent]:
        """Every agent of the organization: ``async for`` fetches page after page, ``await`` gives a list."""
        return AsyncPagedList(self._client._page, _calls.list_agents(status), limit)

    async def get(self, agent_id: str) -> Agent:
        return cast(Agent, await self._client._request(_calls.get_agent(agent_id)))

    async def create(
        self,
        name: str,
        slug: str | None = None,
        *,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        model_family: str | None = None,
    ) -> Agent:
        call = _calls.create_agent(name, slug, description, tags, model_family)
        return cast(Agent, await self._client._request(call))

    async def get_or_create(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        model_family: str | None = None,
    ) -> Agent:
        call = _calls.get_or_create_agent(name, description, tags, model_family)
        return cast(Agent, await self._client._request(call))

    async def update(
        self,
        agent_id: str,
        *,
        name: str | Omit = OMIT,
        slug: str | Omit = OMIT,
        description: str | Omit | None = OMIT,
        tags: Sequence[str] | Omit = OMIT,
        model_family: str | Omit | None = OMIT,
    ) -> Agent:
        call = _calls.update_agent(agent_id, name, slug, description, tags, model_family)
        return cast(Agent, await self._client._request(call))

    async def archive(self, agent_id: str) -> Success:
        return cast(Success, await self._client._request(_calls.archive_agent(agent_id)))
