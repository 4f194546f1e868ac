"""``lastUsedAt``: the first use shows at once, later ones within 60 seconds, without a write per request."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import Account, add_member, bearer, register, set_role, unique

pytestmark = pytest.mark.both_databases  # lastUsedAt is a conditional UPDATE beside an upsert written per dialect

START = datetime(2031, 6, 1, 9, 0, 0, tzinfo=UTC)


def _z(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _last_used(client: TestClient, owner: Account, key_id: str) -> Any:
    listed = client.get("/api/org/keys?includeRevoked=true", headers=owner.headers).json()
    return next(key["lastUsedAt"] for key in listed if key["id"] == key_id)


def test_last_used_at_is_null_until_the_key_is_used_then_set_at_once(client: TestClient) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        owner = register(client)
        created = client.post("/api/org/keys", json={"name": "ci"}, headers=owner.headers).json()
        assert _last_used(client, owner, created["id"]) is None

        traveller.shift(timedelta(minutes=10, milliseconds=250))
        assert client.get("/api/agents", headers=bearer(created["key"])).status_code == 200

        assert _last_used(client, owner, created["id"]) == _z(START + timedelta(minutes=10, milliseconds=250))


def test_a_use_5_seconds_later_does_not_move_last_used_at_but_one_60_seconds_later_does(
    client: TestClient,
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        owner = register(client)
        created = client.post("/api/org/keys", json={"name": "ci"}, headers=owner.headers).json()
        key = bearer(created["key"])

        client.get("/api/auth/me", headers=key)
        traveller.shift(timedelta(seconds=5))
        client.get("/api/auth/me", headers=key)
        assert _last_used(client, owner, created["id"]) == _z(START)

        traveller.shift(timedelta(seconds=55))  # 60 s after the first use
        client.get("/api/auth/me", headers=key)
        assert _last_used(client, owner, created["id"]) == _z(START + timedelta(seconds=60))

        traveller.shift(timedelta(hours=5))
        client.get("/api/agents", headers=key)
        assert _last_used(client, owner, created["id"]) == _z(START + timedelta(seconds=60, hours=5))


def test_a_write_with_a_key_counts_as_a_use(client: TestClient) -> None:
    with time_machine.travel(START, tick=False):
        owner = register(client)
        created = client.post("/api/org/keys", json={"name": "ci"}, headers=owner.headers).json()
        response = client.post(
            "/api/agents", json={"name": "bot", "slug": unique("bot")}, headers=bearer(created["key"])
        )
        assert response.status_code == 201
        assert _last_used(client, owner, created["id"]) == _z(START)


def test_a_use_that_the_role_refuses_still_counts(client: TestClient, database: Database) -> None:
    """The key was presented and recognised: "never used" would send its owner hunting for a typo."""
    with time_machine.travel(START, tick=False):
        owner = register(client)
        viewer = add_member(client, database, owner, "VIEWER")
        created = client.post("/api/org/keys", json={"name": "ci"}, headers=viewer.headers).json()

        response = client.post("/api/agents", json={"name": "bot", "slug": "bot"}, headers=bearer(created["key"]))

        assert response.status_code == 403
        assert _last_used(client, owner, created["id"]) == _z(START)


def test_using_a_jwt_does_not_touch_any_key(client: TestClient) -> None:
    owner = register(client)
    created = client.post("/api/org/keys", json={"name": "ci"}, headers=owner.headers).json()
    client.get("/api/agents", headers=owner.headers)
    assert _last_used(client, owner, created["id"]) is None


def test_a_refused_key_is_not_recorded_as_used(client: TestClient, database: Database) -> None:
    owner = register(client)
    member = add_member(client, database, owner, "MEMBER")
    created = client.post("/api/org/keys", json={"name": "ci"}, headers=member.headers).json()
    set_role(database, member.user_id, None)

    assert client.get("/api/agents", headers=bearer(created["key"])).status_code == 401

    assert _last_used(client, owner, created["id"]) is None
