"""Lists that page: the server answers a page and a ``Link: <…>; rel="next"`` header while more follow.

``limit`` is the most items a list gives in all, not a page size: without it the list runs to its end in pages
of the server's default size; with it, no page is larger than needed (at most MAX_PAGE, the server's maximum).

A sync list method fetches the first page before it returns, so an error is raised where the call is, as
when these methods returned plain lists. Iterating fetches the pages after it as the loop goes: stopping early
fetches no more, and a long list never sits in memory whole. ``len()``, indexing and ``==`` fetch every page
once and keep the items, so code written for plain lists works unchanged. An async list method returns at
once; ``async for`` fetches page after page, ``await`` fetches them all (once).

Only the next link's ``cursor`` is taken: the next page is asked of the client's own base URL with the list's
own filters, so a link naming another host (a server behind a TLS-terminating proxy says ``http://`` and its
internal name) never makes the SDK send the key in clear text or elsewhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

import httpx

from provenant_sdk._http import Call

T = TypeVar("T")

MAX_PAGE = 200

Page = tuple[list[T], str | None]
"""A page's items and the cursor of the page after it (``None`` on the last page)."""


def next_cursor(response: httpx.Response) -> str | None:
    link = response.links.get("next")
    if not link or not link.get("url"):
        return None
    cursor = httpx.URL(link["url"]).params.get("cursor")
    return cursor or None


def _page_call(first: Call, cursor: str | None, remaining: int | None) -> Call:
    params = dict(first.params or {})
    if remaining is not None:
        params["limit"] = str(min(remaining, MAX_PAGE))
    if cursor is not None:
        params["cursor"] = cursor
    return first._replace(params=params or None)


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise ValueError("limit must be 1 or more (or None for every item)")


class PagedList(Sequence[T]):
    """Every item of a list that pages, or the first ``limit``; see the module's docstring."""

    def __init__(self, fetch: Callable[[Call], Page[T]], first: Call, limit: int | None) -> None:
        _check_limit(limit)
        self._fetch = fetch
        self._first = first
        self._limit = limit
        self._head = fetch(_page_call(first, None, limit))
        self._items: list[T] | None = None

    def __iter__(self) -> Iterator[T]:
        if self._items is not None:
            return iter(self._items)
        return self._pages()

    def _pages(self) -> Iterator[T]:
        remaining = self._limit
        items, cursor = self._head
        while True:
            if remaining is not None:
                items = items[:remaining]
                remaining -= len(items)
            yield from items
            if cursor is None or remaining == 0:
                return
            items, cursor = self._fetch(_page_call(self._first, cursor, remaining))

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
        return f"PagedList({self._head[0]!r} and the pages after it)"


class AsyncPagedList(Generic[T]):
    """`PagedList` for asyncio: ``async for`` fetches page after page; ``await`` gives all items as a list."""

    def __init__(self, fetch: Callable[[Call], Awaitable[Page[T]]], first: Call, limit: int | None) -> None:
        _check_limit(limit)
        self._fetch = fetch
        self._first = first
        self._limit = limit
        self._items: list[T] | None = None

    def __aiter__(self) -> AsyncIterator[T]:
        return self._pages()

    async def _pages(self) -> AsyncIterator[T]:
        if self._items is not None:
            for item in self._items:
                yield item
            return
        remaining = self._limit
        cursor: str | None = None
        while True:
            items, cursor = await self._fetch(_page_call(self._first, cursor, remaining))
            if remaining is not None:
                items = items[:remaining]
                remaining -= len(items)
            for item in items:
                yield item
            if cursor is None or remaining == 0:
                return

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
