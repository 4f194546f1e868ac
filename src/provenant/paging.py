"""Lists that page (the contract's "Lists that page"): keyset cursors and GitHub's ``Link: rel="next"``.

A list is ordered newest first by a timestamp, ties broken by id. A cursor names the last item a page
showed, and the next page holds what sorts after it. Items inserted while someone pages sort before
the first page (they are newer), so paging from first to last sees every item that existed when it
began exactly once; an offset would shift under those inserts and repeat or skip items.
"""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request, Response
from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, or_

from provenant.errors import ValidationFailed

T = TypeVar("T")
S = TypeVar("S", bound=Select)  # type: ignore[type-arg]

MAX_LIMIT = 200
DEFAULT_LIMIT = 50

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page, 1 to 200.")]
CursorParam = Annotated[
    str | None,
    Query(max_length=200, description="Opaque: the `cursor` of a `Link: rel=next`; any other value is a 422."),
]


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: the last item's sort timestamp and id."""

    at: datetime
    id: str

    def encode(self) -> str:
        raw = json.dumps([self.at.isoformat(), self.id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> "Position":
        """The position a cursor names, or a 422. A cursor is the client's text like any other: its instant
        must be one in UTC (``0001-01-01T00:00:00+01:00`` is not, and answered 500 when the database layer
        converted it) and its id plain printable ASCII, as every id is (a NUL or a lone surrogate reached
        the database)."""
        try:
            at, item_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            instant = datetime.fromisoformat(at)
            if instant.tzinfo is None or not (isinstance(item_id, str) and item_id.isascii() and item_id.isprintable()):
                raise ValueError("not a cursor this server wrote")
            return cls(instant.astimezone(UTC), item_id)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError) as bad:
            raise ValidationFailed("cursor", "Not a cursor from this list; start again without one.") from bad


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    after: Position | None

    @classmethod
    def of(cls, limit: int, cursor: str | None) -> "PageRequest":
        return cls(limit, Position.decode(cursor) if cursor else None)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next: Position | None  # None on the last page


def sorts_after(
    at: SQLColumnExpression[datetime], item_id: SQLColumnExpression[str], after_at: Any, after_id: Any
) -> ColumnElement[bool]:
    """Rows that come after (``after_at``, ``after_id``) newest first: older, or as old with a smaller id."""
    return or_(at < after_at, and_(at == after_at, item_id < after_id))


def newest_first(
    query: S, at: SQLColumnExpression[datetime], item_id: SQLColumnExpression[str], page: PageRequest
) -> S:
    """``query`` ordered newest first, starting after ``page.after``, one row more than the page (to
    learn whether another page follows without counting)."""
    if page.after is not None:
        query = query.where(sorts_after(at, item_id, page.after.at, page.after.id))
    return query.order_by(at.desc(), item_id.desc()).limit(page.limit + 1)


def page_of(rows: Sequence[T], page: PageRequest, position: Callable[[T], Position]) -> Page[T]:
    """The page from rows fetched by ``newest_first``."""
    items = list(rows[: page.limit])
    has_more = len(rows) > page.limit
    return Page(items, position(items[-1]) if has_more else None)


def link_next(request: Request, response: Response, next_position: Position | None) -> None:
    """Sets ``Link: <…>; rel="next"`` on ``response`` (the route's injected one, or the Response it
    returns) when another page follows: the request's own URL with the cursor."""
    if next_position is not None:
        url = request.url.include_query_params(cursor=next_position.encode())
        response.headers["Link"] = f'<{url}>; rel="next"'
