"""An org issues at most 100 invitations in any 24 hours: beyond, 429 too_many_invitations with Retry-After.

Every invitation issued counts, whatever became of it; nothing is stored when one is refused; the
limit lifts as the oldest invitation of the window leaves it.
"""

from datetime import UTC, datetime, timedelta

import httpx
import time_machine
from fastapi.testclient import TestClient

from tests.factories import Account, audit_entries, invite, register, unique

LIMIT = 100
START = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)


def invite_response(client: TestClient, owner: Account) -> httpx.Response:
    body = {"email": f"{unique('late')}@example.com", "role": "MEMBER"}
    return client.post("/api/org/invitations", json=body, headers=owner.headers)


def assert_refused(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["code"] == "too_many_invitations"
    assert "100 invitations" in body["error"]
    assert "inviteLink" not in body
    assert response.headers["Retry-After"] == str(retry_after)


def test_the_101st_invitation_of_a_day_is_refused_and_nothing_is_stored(client: TestClient) -> None:
    with time_machine.travel(START, tick=False):
        owner = register(client)
        for _ in range(LIMIT):
            invite(client, owner)
        assert_refused(invite_response(client, owner), retry_after=24 * 3600)
        assert len(client.get("/api/org/invitations", headers=owner.headers).json()) == LIMIT
        assert len(audit_entries(client, owner.headers, action="team.member.invited", limit=200)) == LIMIT


def test_the_limit_lifts_as_the_oldest_invitation_leaves_the_window(client: TestClient) -> None:
    with time_machine.travel(START, tick=False) as clock:
        owner = register(client)
        invite(client, owner)
        clock.move_to(START + timedelta(hours=1))
        for _ in range(LIMIT - 1):
            invite(client, owner)
        clock.move_to(START + timedelta(hours=2))
        assert_refused(invite_response(client, owner), retry_after=22 * 3600)

        clock.move_to(START + timedelta(hours=24, seconds=1))
        assert invite_response(client, owner).status_code == 201  # the first one left the window
        assert_refused(invite_response(client, owner), retry_after=3600 - 1)


def test_cancelled_and_replaced_invitations_still_count(client: TestClient) -> None:
    with time_machine.travel(START, tick=False):
        owner = register(client)
        email = f"{unique('again')}@example.com"
        for _ in range(LIMIT // 2):
            invite(client, owner, email=email)  # each replaces the previous one
        for _ in range(LIMIT // 2):
            issued = invite(client, owner)
            assert client.delete(f"/api/org/invitations/{issued['id']}", headers=owner.headers).status_code == 200
        assert len(client.get("/api/org/invitations", headers=owner.headers).json()) == 1
        assert_refused(invite_response(client, owner), retry_after=24 * 3600)


def test_one_orgs_invitations_do_not_limit_another(client: TestClient) -> None:
    with time_machine.travel(START, tick=False):
        busy, other = register(client), register(client)
        for _ in range(LIMIT):
            invite(client, busy)
        assert_refused(invite_response(client, busy), retry_after=24 * 3600)
        assert invite_response(client, other).status_code == 201
