"""``client.api_keys``: create, list, roll and revoke keys, and read how much each is used."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import cast

from provenant_sdk import _calls
from provenant_sdk._paging import AsyncPagedList, PagedList
from provenant_sdk._resources import AsyncRequester, Requester
from provenant_sdk.types import ApiKey, CreatedApiKey, KeyAccess, KeyUsageDay, Success


class ApiKeys:
    def __init__(self, client: Requester) -> None:
        self._client = client

    def list(self, *, include_revoked: bool = False, limit: int | None = None) -> PagedList[ApiKey]:
        """Keys the caller may see (OWNER and ADMIN: the org's; others: their own), newest first."""
        return PagedList(self._client._page, _calls.list_api_keys(include_revoked), limit)

    def create(
        self,
        name: str,
        *,
        expires_at: datetime | str | None = None,
        access: KeyAccess | None = None,
        rate_limit_per_minute: int | None = None,
    ) -> CreatedApiKey:
        """A new key; ``key`` in the result is the only copy of it. A naive ``expires_at`` is taken as UTC.
        ``access``: ``"full"`` (the default: acts with your role), ``"read"`` or ``"ingest"``.
        ``rate_limit_per_minute``: 1 to 1,000,000 requests a minute (default: no limit)."""
        call = _calls.create_api_key(name, expires_at, access, rate_limit_per_minute)
        return cast(CreatedApiKey, self._client._request(call))

    def revoke(self, key_id: str) -> Success:
        """Revoke a key for good, at once; revoking it again is harmless."""
        return cast(Success, self._client._request(_calls.revoke_api_key(key_id)))

    def roll(self, key_id: str, *, grace_seconds: int = 0) -> CreatedApiKey:
        """A new key with the same name, access, rate limit and expiry; the old one stops working after
        ``grace_seconds`` (0 to 604800)."""
        return cast(CreatedApiKey, self._client._request(_calls.roll_api_key(key_id, grace_seconds)))

    def usage(self, key_id: str, *, days: int | None = None) -> builtins.list[KeyUsageDay]:
        """Requests per day over the last ``days`` (1 to 90, default 30), oldest first, unused days as 0."""
        return cast(builtins.list[KeyUsageDay], self._client._request(_calls.api_key_usage(key_id, days)))


class AsyncApiKeys:
    def __init__(self, client: AsyncRequester) -> None:
        self._client = client

    def list(self, *, include_revoked: bool = False, limit: int | None = None) -> AsyncPagedList[ApiKey]:
        return AsyncPagedList(self._client._page, _calls.list_api_keys(include_revoked), limit)

    async def create(
        self,
        name: str,
        *,
        expires_at: datetime | str | None = None,
        access: KeyAccess | None = None,
        rate_limit_per_minute: int | None = None,
    ) -> CreatedApiKey:
        call = _calls.create_api_key(name, expires_at, access, rate_limit_per_minute)
        return cast(CreatedApiKey, await self._client._request(call))

    async def revoke(self, key_id: str) -> Success:
        return cast(Success, await self._client._request(_calls.revoke_api_key(key_id)))

    async def roll(self, key_id: str, *, grace_seconds: int = 0) -> CreatedApiKey:
        call = _calls.roll_api_key(key_id, grace_seconds)
        return cast(CreatedApiKey, await self._client._request(call))

    async def usage(self, key_id: str, *, days: int | None = None) -> builtins.list[KeyUsageDay]:
        call = _calls.api_key_usage(key_id, days)
        return cast(builtins.list[KeyUsageDay], await self._client._request(call))
