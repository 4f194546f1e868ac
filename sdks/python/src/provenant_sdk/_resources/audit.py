"""``client.audit``: the organization's audit log (OWNER and ADMIN)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import cast

from provenant_sdk import _calls
from provenant_sdk._paging import AsyncPagedList, PagedList
from provenant_sdk._resources import AsyncRequester, Requester
from provenant_sdk.types import AuditEntry


class Audit:
    def __init__(self, client: Requester) -> None:
        self._client = client

    def list(
        self,
        *,
        action: str | None = None,
        user_id: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        limit: int | None = None,
    ) -> PagedList[AuditEntry]:
        """Entries (the first ``limit``, or all) newest first; ``since`` and ``until`` are inclusive."""
        filters = _calls.audit_filters(action, user_id, resource_type, resource_id, since, until)
        return PagedList(self._client._page, _calls.list_audit_entries(filters), limit)

    def export(
        self,
        *,
        action: str | None = None,
        user_id: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
    ) -> Iterator[AuditEntry]:
        """Every matching entry, read from the server's NDJSON stream as the loop goes."""
        filters = _calls.audit_filters(action, user_id, resource_type, resource_id, since, until)
        return cast(Iterator[AuditEntry], self._client._lines(_calls.export_audit_log(filters)))


class AsyncAudit:
    def __init__(self, client: AsyncRequester) -> None:
        self._client = client

    def list(
        self,
        *,
        action: str | None = None,
        user_id: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        limit: int | None = None,
    ) -> AsyncPagedList[AuditEntry]:
        filters = _calls.audit_filters(action, user_id, resource_type, resource_id, since, until)
        return AsyncPagedList(self._client._page, _calls.list_audit_entries(filters), limit)

    def export(
        self,
        *,
        action: str | None = None,
        user_id: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
    ) -> AsyncIterator[AuditEntry]:
        """``async for`` over every matching entry, read from the server's NDJSON stream."""
        filters = _calls.audit_filters(action, user_id, resource_type, resource_id, since, until)
        return cast(AsyncIterator[AuditEntry], self._client._lines(_calls.export_audit_log(filters)))
