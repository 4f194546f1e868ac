"""The client's resources (``client.agents``, ``client.sessions``, ...), sync and async side by side, and the
flat methods older code calls (``client.list_agents``), which are other names for them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, Self, TypeVar, overload

from provenant_sdk._http import Call
from provenant_sdk._paging import Page

P = ParamSpec("P")
R = TypeVar("R")


class Requester(Protocol):
    """What a sync resource asks of its client."""

    def _request(self, call: Call) -> Any: ...
    def _page(self, call: Call) -> Page[Any]: ...
    def _lines(self, call: Call) -> Iterator[Any]: ...


class AsyncRequester(Protocol):
    """What an async resource asks of its client."""

    async def _request(self, call: Call) -> Any: ...
    async def _page(self, call: Call) -> Page[Any]: ...
    def _lines(self, call: Call) -> AsyncIterator[Any]: ...


class flat(Generic[P, R]):
    """A client method that is another name for a resource's method: ``list_agents = flat("agents",
    Agents.list)`` makes ``client.list_agents(...)`` call ``client.agents.list(...)``, with its signature."""

    def __init__(self, resource: str, method: Callable[Concatenate[Any, P], R]) -> None:
        self._resource = resource
        self._method = method.__name__
        self.__doc__ = f"``client.{resource}.{method.__name__}``: {method.__doc__ or ''}"

    @overload
    def __get__(self, client: None, owner: type) -> Self: ...
    @overload
    def __get__(self, client: object, owner: type) -> Callable[P, R]: ...
    def __get__(self, client: object | None, owner: type) -> Self | Callable[P, R]:
        if client is None:
            return self
        method: Callable[P, R] = getattr(getattr(client, self._resource), self._method)
        return method
