"""What the server's clock decides, pinned as it is today.

Expiry is a comparison with the server's wall clock at each request: moving the clock back brings
a key or an invitation that expired in the meantime back to life (documented in SECURITY.md: the
server assumes an NTP-synced clock that does not jump back). Revocation is a fact, not a time: no
clock change undoes it.
"""

from datetime import UTC, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient

from tests.factories import assert_unauthorized, bearer, create_key, invite, link_token, register

START = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)


def test_moving_the_clock_back_revives_a_key_that_just_expired(client: TestClient) -> None:
    with time_machine.travel(START, tick=False) as clock:
        owner = register(client)
        key = bearer(create_key(client, owner, expires_at=START + timedelta(minutes=30)))
        clock.move_to(START + timedelta(minutes=31))
        assert_unauthorized(client.get("/api/auth/me", headers=key), "api_key_expired")
        clock.move_to(START + timedelta(minutes=-29))  # an hour back
        assert client.get("/api/auth/me", headers=key).status_code == 200


def test_moving_the_clock_back_revives_an_invitation_that_just_expired(client: TestClient) -> None:
    with time_machine.travel(START, tick=False) as clock:
        owner = register(client)
        token = link_token(invite(client, owner)["inviteLink"])
        clock.move_to(START + timedelta(days=7, minutes=1))
        assert client.get(f"/api/auth/invitations/{token}").json()["code"] == "invitation_expired"
        clock.move_to(START + timedelta(days=7, minutes=-59))  # an hour back
        assert client.get(f"/api/auth/invitations/{token}").status_code == 200


def test_no_clock_change_undoes_a_revocation(client: TestClient) -> None:
    with time_machine.travel(START, tick=False) as clock:
        owner = register(client)
        key = create_key(client, owner)
        key_id = client.get("/api/org/keys", headers=owner.headers).json()[0]["id"]
        clock.move_to(START + timedelta(minutes=10))
        assert client.delete(f"/api/org/keys/{key_id}", headers=owner.headers).status_code == 200
        clock.move_to(START + timedelta(minutes=-50))
        assert_unauthorized(client.get("/api/auth/me", headers=bearer(key)), "api_key_revoked")
