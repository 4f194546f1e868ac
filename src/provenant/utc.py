"""UTC, the only zone Provenant stores or speaks: one rule for a time that arrives without a zone."""

from datetime import UTC, datetime


def in_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime. A time without a zone (SQLite's stored text, a client's
    ``2026-11-26T05:02:34``) is taken as UTC; any other zone is converted."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
