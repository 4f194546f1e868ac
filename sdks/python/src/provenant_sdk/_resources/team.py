"""``client.members`` and ``client.invitations``: who is in the organization, and who is invited."""

from __future__ import annotations

import builtins
from typing import cast

from provenant_sdk import _calls
from provenant_sdk._resources import AsyncRequester, Requester
from provenant_sdk.types import CreatedInvitation, InvitableRole, Invitation, Member, Role, Success


class Members:
    def __init__(self, client: Requester) -> None:
        self._client = client

    def list(self) -> builtins.list[Member]:
        return cast(builtins.list[Member], self._client._request(_calls.list_members()))

    def change_role(self, user_id: str, role: Role) -> Member:
        """OWNER: any role; ADMIN: MEMBER and VIEWER only. The organization always keeps an OWNER."""
        return cast(Member, self._client._request(_calls.change_member_role(user_id, role)))

    def remove(self, user_id: str) -> Success:
        """Their access ends at once; their keys answer ``api_key_owner_removed``."""
        return cast(Success, self._client._request(_calls.remove_member(user_id)))


class Invitations:
    def __init__(self, client: Requester) -> None:
        self._client = client

    def list(self) -> builtins.list[Invitation]:
        """Pending invitations, newest first."""
        return cast(builtins.list[Invitation], self._client._request(_calls.list_invitations()))

    def create(self, email: str, role: InvitableRole = "MEMBER") -> CreatedInvitation:
        """An invitation; ``inviteLink`` in the result works once, for 7 days."""
        return cast(CreatedInvitation, self._client._request(_calls.create_invitation(email, role)))

    def cancel(self, invitation_id: str) -> Success:
        """The link stops working at once."""
        return cast(Success, self._client._request(_calls.cancel_invitation(invitation_id)))


class AsyncMembers:
    def __init__(self, client: AsyncRequester) -> None:
        self._client = client

    async def list(self) -> builtins.list[Member]:
        return cast(builtins.list[Member], await self._client._request(_calls.list_members()))

    async def change_role(self, user_id: str, role: Role) -> Member:
        return cast(Member, await self._client._request(_calls.change_member_role(user_id, role)))

    async def remove(self, user_id: str) -> Success:
        return cast(Success, await self._client._request(_calls.remove_member(user_id)))


class AsyncInvitations:
    def __init__(self, client: AsyncRequester) -> None:
        self._client = client

    async def list(self) -> builtins.list[Invitation]:
        return cast(builtins.list[Invitation], await self._client._request(_calls.list_invitations()))

    async def create(self, email: str, role: InvitableRole = "MEMBER") -> CreatedInvitation:
        return cast(CreatedInvitation, await self._client._request(_calls.create_invitation(email, role)))

    async def cancel(self, invitation_id: str) -> Success:
        return cast(Success, await self._client._request(_calls.cancel_invitation(invitation_id)))
