"""A key with ``expiresAt`` works until that instant and never from it on, to the microsecond."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient

from tests.factories import assert_unauthorized, bearer, create_key, register

pytestmark = pytest.mark.both_databases  # expiry to the microsecond, as each database stores timestamps

EXPIRES_AT = datetime(2031, 7, 1, 0, 0, 0, tzinfo=UTC)


def assert_expires_at(
    client: TestClient, traveller: time_machine.Traveller, key: dict[str, str], expiry: datetime, *, before: timedelta
) -> None:
    """The key works at ``expiry - before`` and is refused as expired at ``expiry`` itself."""
    traveller.move_to(expiry - before)
    assert client.get("/api/auth/me", headers=key).status_code == 200
    traveller.move_to(expiry)
    assert_unauthorized(client.get("/api/auth/me", headers=key), "api_key_expired")


@pytest.mark.parametrize("before", [timedelta(microseconds=1), timedelta(milliseconds=1), timedelta(seconds=1)])
def test_a_key_works_just_before_its_expiry_and_is_expired_at_it(client: TestClient, before: timedelta) -> None:
    with time_machine.travel(EXPIRES_AT - timedelta(days=30), tick=False) as traveller:
        owner = register(client)
        key = bearer(create_key(client, owner, expires_at=EXPIRES_AT))

        traveller.move_to(EXPIRES_AT - before)
        assert client.get("/api/agents", headers=key).status_code == 200

        traveller.move_to(EXPIRES_AT)
        assert_unauthorized(client.get("/api/agents", headers=key), "api_key_expired")

        traveller.move_to(EXPIRES_AT + timedelta(days=400))
        assert_unauthorized(client.get("/api/agents", headers=key), "api_key_expired")


def test_an_expiry_with_sub_second_precision_is_honoured(client: TestClient) -> None:
    expires_at = EXPIRES_AT + timedelta(microseconds=654321)
    with time_machine.travel(EXPIRES_AT - timedelta(hours=1), tick=False) as traveller:
        owner = register(client)
        key = bearer(create_key(client, owner, expires_at=expires_at))
        assert_expires_at(client, traveller, key, expires_at, before=timedelta(microseconds=1))


def test_an_expiry_given_in_another_time_zone_means_the_same_instant(client: TestClient) -> None:
    with time_machine.travel(EXPIRES_AT - timedelta(days=1), tick=False) as traveller:
        owner = register(client)
        response = client.post(
            "/api/org/keys",
            json={"name": "ci", "expiresAt": "2031-07-01T02:00:00+02:00"},
            headers=owner.headers,
        )
        assert response.json()["expiresAt"] == "2031-07-01T00:00:00.000Z"
        key = bearer(response.json()["key"])
        assert_expires_at(client, traveller, key, EXPIRES_AT, before=timedelta(seconds=1))


def test_an_expired_key_stays_listed_as_inactive(client: TestClient) -> None:
    with time_machine.travel(EXPIRES_AT - timedelta(days=1), tick=False) as traveller:
        owner = register(client)
        create_key(client, owner, expires_at=EXPIRES_AT)
        assert client.get("/api/org/keys", headers=owner.headers).json()[0]["isActive"] is True

        traveller.move_to(EXPIRES_AT)
        listed = client.get("/api/org/keys", headers=owner.headers).json()

        assert len(listed) == 1
        assert listed[0]["isActive"] is False
        assert listed[0]["expiresAt"] == "2031-07-01T00:00:00.000Z"
        assert listed[0]["revokedAt"] is None


def test_a_key_without_an_expiry_keeps_working(client: TestClient) -> None:
    with time_machine.travel(EXPIRES_AT, tick=False) as traveller:
        owner = register(client)
        key = bearer(create_key(client, owner))
        traveller.shift(timedelta(days=3650))
        owner_again = client.get("/api/auth/me", headers=key)
        assert owner_again.status_code == 200


def test_revoked_wins_over_expired(client: TestClient) -> None:
    """A key both revoked and expired says revoked: the deliberate act is the one worth reporting."""
    with time_machine.travel(EXPIRES_AT - timedelta(days=1), tick=False) as traveller:
        owner = register(client)
        created = client.post(
            "/api/org/keys", json={"name": "ci", "expiresAt": "2031-07-01T00:00:00Z"}, headers=owner.headers
        ).json()
        client.delete(f"/api/org/keys/{created['id']}", headers=owner.headers)
        traveller.move_to(EXPIRES_AT)
        assert_unauthorized(client.get("/api/auth/me", headers=bearer(created["key"])), "api_key_revoked")
