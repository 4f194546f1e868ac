"""Lists that page: the server answers a page and a ``Link: <…>; rel="next"`` header while more follow.

A sync list method fetches the first page before it returns (so an error is raised where the call is, as when
these methods returned plain lists); iterating fetches the pages after it as the loop goes, so stopping early
fetches no more, and a long list never sits in memory whole. ``len()``, indexing and ``==`` fetch every page
once and keep the items, so code written for plain lists works unchanged. An async list method returns at
once; ``async for`` fetches page after page, ``await`` fetches them all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

import httpx

from provenant_sdk._http import Call

T = TypeVar("T")

Page = tuple[list[T], Call | None]


def next_page(response: httpx.Response) -> Call | None:
    """The request for the page after this one, or ``None`` on the last page.

    Only the link's path and query are followed, against the client's own base URL: the key is never sent to
    another origin, and a path prefix of a reverse proxy in front of the server is kept.
    """
    link = response.links.get("next")
    if not link or not link.get("url"):
        return None
    return Call("GET", httpx.URL(link["url"]).raw_path.decode("ascii"))


class PagedList(Sequence[T]):
    """Every item of a list that pages; see the module's docstring."""

    def __init__(self, fetch: Callable[[Call], Page[T]], first: Call) -> None:
        self._fetch = fetch
        self._first = first
        self._head, self._after_head = fetch(first)
        self._items: list[T] | None = None if self._after_head is not None else self._head

    def __iter__(self) -> Iterator[T]:
        if self._items is not None:
            return iter(self._items)
        return self._pages()

    def _pages(self) -> Iterator[T]:
        yield from self._head
        call = self._after_head
        while call is not None:
            items, call = self._fetch(call)
            yield from items

    def to_list(self) -> list[T]:
        """Every item, fetched once and kept."""
        if self._items is None:
            self._items = list(self._pages())
        return self._items

    def __len__(self) -> int:
        return len(self.to_list())

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self.to_list()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PagedList):
            other = other.to_list()
        if isinstance(other, list):
            return self.to_list() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if self._items is not None:
            return f"PagedList({self._items!r})"
        return f"PagedList({self._head!r} and the pages after it)"


class AsyncPagedList(Generic[T]):
    """`PagedList` for asyncio: ``async for`` fetches page after page; ``await`` gives all items as a list."""

    def __init__(self, fetch: Callable[[Call], Awaitable[Page[T]]], first: Call) -> None:
        self._fetch = fetch
        self._first = first
        self._items: list[T] | None = None

    def __aiter__(self) -> AsyncIterator[T]:
        return self._pages()

    async def _pages(self) -> AsyncIterator[T]:
        if self._items is not None:
            for item in self._items:
                yield item
            return
        call: Call | None = self._first
        while call is not None:
            items, call = await self._fetch(call)
            for item in items:
                yield item

    async def to_list(self) -> list[T]:
        """Every item, fetched once and kept."""
        if self._items is None:
            self._items = [item async for item in self._pages()]
        return self._items

    def __await__(self) -> Generator[Any, None, list[T]]:
        return self.to_list().__await__()

    def __repr__(self) -> str:
        if self._items is not None:
            return f"AsyncPagedList({self._items!r})"
        return f"AsyncPagedList({self._first.method} {self._first.path}, not fetched yet)"
