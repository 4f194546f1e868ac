"""At most 100 active keys per person: the 101st is refused with 409 key_limit_reached and nothing stored.

Revoked and expired keys do not count, and two creations at 99 cannot both pass.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient

from provenant.api_keys import service
from provenant.auth.principal import Principal
from provenant.auth.roles import Role
from provenant.db import Database
from provenant.errors import ProvenantError
from tests.factories import Account, Client, add_member, assert_unauthorized, audit_entries, bearer, register

pytestmark = pytest.mark.both_databases  # the key limit holds under a row lock or the write lock

LIMIT = 100


def create(client: Client, account: Account, name: str, expires_at: datetime | None = None) -> httpx.Response:
    body = {"name": name}
    if expires_at is not None:
        body["expiresAt"] = expires_at.isoformat()
    return client.post("/api/org/keys", json=body, headers=account.headers)


def fill(client: Client, account: Account, count: int, *, expires_at: datetime | None = None) -> list[str]:
    """``count`` new keys of ``account``; their ids."""
    ids = []
    for index in range(count):
        response = create(client, account, f"key-{index}", expires_at)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def assert_limit_reached(response: httpx.Response) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "key_limit_reached"
    assert "100 active API keys" in body["error"]
    assert "key" not in body


def test_the_101st_active_key_is_refused_and_nothing_is_stored(client: TestClient) -> None:
    owner = register(client)
    fill(client, owner, LIMIT)
    assert_limit_reached(create(client, owner, "one-too-many"))
    names = [key["name"] for key in client.get("/api/org/keys", params={"limit": 200}, headers=owner.headers).json()]
    assert len(names) == LIMIT and "one-too-many" not in names
    created = audit_entries(client, owner.headers, action="apikey.create", limit=200)
    assert len(created) == LIMIT


def test_revoked_and_expired_keys_do_not_count(client: TestClient) -> None:
    owner = register(client)
    soon = datetime.now(UTC) + timedelta(hours=1)
    fill(client, owner, 2, expires_at=soon)
    first, *_ = fill(client, owner, LIMIT - 2)
    assert_limit_reached(create(client, owner, "refused"))

    assert client.delete(f"/api/org/keys/{first}", headers=owner.headers).status_code == 200
    assert create(client, owner, "after-a-revoke").status_code == 201
    assert_limit_reached(create(client, owner, "refused"))

    with time_machine.travel(soon + timedelta(seconds=1)):
        assert create(client, owner, "after-expiry-1").status_code == 201
        assert create(client, owner, "after-expiry-2").status_code == 201
        assert_limit_reached(create(client, owner, "refused"))


def test_the_limit_is_per_person(client: TestClient, database: Database) -> None:
    owner = register(client)
    member = add_member(client, database, owner, "MEMBER")
    fill(client, owner, LIMIT)
    assert create(client, member, "members-own").status_code == 201
    assert_limit_reached(create(client, owner, "refused"))


def test_two_creations_at_99_cannot_both_pass(client: TestClient, database: Database) -> None:
    """The first holds its transaction open after creating the 100th key while the second starts: the
    second waits for it (PostgreSQL: the user's row lock; SQLite: the write lock) and is refused."""
    owner = register(client)
    fill(client, owner, LIMIT - 1)
    me = client.get("/api/auth/me", headers=owner.headers).json()
    caller = Principal(org_id=me["orgId"], user_id=me["id"], role=Role(me["role"]), name=me["name"])
    first_created = threading.Event()
    outcome: dict[str, object] = {}

    def create_in_service(index: int) -> None:
        if index == 1:
            first_created.wait(timeout=10)
        try:
            with database.transaction() as session:
                service.create_key(session, caller, name=f"racer-{index}", expires_at=None)
                if index == 0:
                    first_created.set()
                    time.sleep(0.5)  # hold the transaction open while the other creation starts
            outcome[f"result {index}"] = "created"
        except ProvenantError as error:
            outcome[f"result {index}"] = error.code

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(create_in_service, range(2)))
    assert outcome == {"result 0": "created", "result 1": "key_limit_reached"}
    assert len(client.get("/api/org/keys", params={"limit": 200}, headers=owner.headers).json()) == LIMIT


@pytest.mark.parametrize("expires_at", ["2099-01-01T00:00:00", "2099-01-01T00:00"])
def test_an_expiry_without_a_zone_is_taken_as_utc(client: TestClient, expires_at: str) -> None:
    owner = register(client)
    response = client.post("/api/org/keys", json={"name": "ci", "expiresAt": expires_at}, headers=owner.headers)
    assert response.status_code == 201, response.text
    assert response.json()["expiresAt"] == "2099-01-01T00:00:00.000Z"


def test_a_key_without_a_zone_in_its_expiry_ends_at_that_utc_instant(client: TestClient) -> None:
    owner = register(client)
    body = {"name": "ci", "expiresAt": "2099-06-01T12:00:00"}
    key = client.post("/api/org/keys", json=body, headers=owner.headers).json()["key"]
    with time_machine.travel(datetime(2099, 6, 1, 11, 59, 58, tzinfo=UTC), tick=False):
        assert client.get("/api/auth/me", headers=bearer(key)).status_code == 200
    with time_machine.travel(datetime(2099, 6, 1, 12, 0, 0, tzinfo=UTC), tick=False):
        assert_unauthorized(client.get("/api/auth/me", headers=bearer(key)), "api_key_expired")
