"""Lean statements for the hottest paths: reads compiled once per dialect and run straight on the
DB-API cursor of the Reader (provenant.db), lists of JSON the database keeps (Agent.listed), and the
many-row INSERT of ingestion.

On these paths SQLAlchemy's execution layer (result objects, per-value type processing,
autobegin) and pydantic's per-row validation cost several times the indexed query itself.
Everything else goes through the ORM session as usual.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple, overload

from sqlalchemy import Connection, Select, Table, insert
from sqlalchemy.engine import Dialect

from provenant.db import Reader
from provenant.utc import in_utc


class _Compiled(NamedTuple):
    sql: str
    positional: tuple[str, ...] | None
    fixed: dict[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]


# A SELECT of any columns (SQLAlchemy 2.1 types a Select by the types of its columns).
AnySelect = Select[*tuple[Any, ...]]


class LeanQuery:
    """A SELECT compiled once per dialect; ``build`` receives the dialect name."""

    def __init__(self, build: Callable[[str], "AnySelect"]) -> None:
        self._build = build
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> "_Compiled":
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            statement = self._build(dialect.name).compile(dialect=dialect)
            positional = tuple(statement.positiontup or ()) if dialect.positional else None
            # Values of the statement's own literals (e.g. substr positions), merged into each call.
            fixed = {name: value for name, value in statement.params.items() if value is not None}
            # A typed parameter (a UTCDateTime cursor) is stored as its type stores it, as the ORM would.
            processors = {
                name: processor
                for name, bind in statement.binds.items()
                if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
            }
            compiled = self._compiled[dialect.name] = _Compiled(str(statement), positional, fixed, processors)
        return compiled

    def rows(self, reader: Reader, **params: Any) -> list[tuple[Any, ...]]:
        sql, positional, fixed, processors = self._for(reader.dialect)
        params = {**fixed, **params} if fixed else params
        if processors:
            params = {name: processors[name](value) if name in processors else value for name, value in params.items()}
        arguments = tuple(params[name] for name in positional) if positional is not None else params
        return reader.fetchall(sql, arguments)

    def one_or_none(self, reader: Reader, **params: Any) -> tuple[Any, ...] | None:
        rows = self.rows(reader, **params)
        return rows[0] if rows else None


class LeanInsert:
    """An INSERT of every column of ``table``, compiled once per dialect, run as one executemany.

    Each value is stored as its column's type stores it (its bind processor: JSON text, SQLite's datetime
    text), as Core would; what is skipped is Core's per-row parameter building, and values every row shares
    are processed once. For a batch of 100 turns, Core's parameter handling was a fifth of the request's CPU
    (benchmarks/ingest.py, profiled); this leaves the processors themselves.
    """

    def __init__(self, table: Table) -> None:
        self._table = table
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            statement = insert(self._table).compile(dialect=dialect)
            positional = tuple(statement.positiontup or ()) if dialect.positional else None
            processors = {
                column.key: processor
                for column in self._table.columns
                if (processor := column.type.dialect_impl(dialect).bind_processor(dialect)) is not None
            }
            compiled = self._compiled[dialect.name] = _Compiled(str(statement), positional, {}, processors)
        return compiled

    def execute(self, connection: Connection, rows: list[dict[str, Any]], shared: dict[str, Any]) -> None:
        """Inserts ``rows`` (column key → value), each with the values of ``shared`` added."""
        sql, positional, _, processors = self._for(connection.dialect)

        def stored(name: str, value: Any) -> Any:
            processor = processors.get(name)
            return value if processor is None else processor(value)

        common = {name: stored(name, value) for name, value in shared.items()}
        own = [name for name in rows[0] if name not in common]
        stored_rows = [{**common, **{name: stored(name, row[name]) for name in own}} for row in rows]
        if positional is not None:
            arguments: Any = [tuple(row[name] for name in positional) for row in stored_rows]
        else:
            arguments = stored_rows
        connection.exec_driver_sql(sql, arguments)


@overload
def utc(value: datetime | str) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: datetime | str | None) -> datetime | None:
    """A timestamp as a driver returns it (SQLite: text without zone) → aware UTC."""
    if value is None:
        return None
    return in_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def json_array(objects: list[str]) -> str:
    """JSON objects as text → the JSON array, in their order."""
    return "[" + ",".join(objects) + "]"
