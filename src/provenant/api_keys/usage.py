"""Requests per key per UTC day, as written by the key-use count of api_keys.key_use (KeyUse)."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from provenant.api_keys.service import visible_key
from provenant.auth.principal import Principal
from provenant.models import ApiKeyUsage


def daily_usage(session: Session, caller: Principal, key_id: str, *, days: int) -> list[tuple[date, int]]:
    """The last ``days`` UTC days up to today, oldest first, a day without use as 0. Today's count
    lags by up to a minute: each process writes what it counted every
    ``PROVENANT_KEY_USE_WRITE_INTERVAL`` (30 s by default)."""
    visible_key(session, caller, key_id)
    today = datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    rows = session.execute(
        select(ApiKeyUsage.day, ApiKeyUsage.requests).where(
            ApiKeyUsage.api_key_id == key_id, ApiKeyUsage.day >= first, ApiKeyUsage.day <= today
        )
    )
    counted = {day: requests for day, requests in rows}
    return [(day, counted.get(day, 0)) for day in (first + timedelta(days=n) for n in range(days))]
