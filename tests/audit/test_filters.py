"""GET /api/audit: its filters, its limit, its order."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import Account, add_member, audit_entries, create_agent, create_key, register

# from and to are compared in SQL, as each database stores timestamps, and so is the order newest first:
# those tests run on both databases; the filters by value, the limit and the 422s are the same SQL on both.


@pytest.fixture
def owner(client: TestClient) -> Account:
    return register(client)


def actions(entries: list[dict[str, object]]) -> list[object]:
    return [entry["action"] for entry in entries]


def test_filter_by_action(client: TestClient, owner: Account) -> None:
    agent = create_agent(client, owner.headers)
    client.delete(f"/api/agents/{agent['id']}", headers=owner.headers)
    create_key(client, owner)

    assert actions(audit_entries(client, owner.headers, action="agent.archive")) == ["agent.archive"]
    assert actions(audit_entries(client, owner.headers, action="apikey.create")) == ["apikey.create"]
    assert audit_entries(client, owner.headers, action="agent.update") == []


def test_filter_by_user(client: TestClient, database: Database, owner: Account) -> None:
    member = add_member(client, database, owner, "MEMBER")
    create_agent(client, owner.headers)
    create_agent(client, member.headers)

    mine = audit_entries(client, owner.headers, userId=member.user_id)
    assert actions(mine) == ["agent.create", "auth.login"]
    assert {entry["user"]["id"] for entry in mine} == {member.user_id}  # type: ignore[index]
    assert member.user_id not in str(audit_entries(client, owner.headers, userId=owner.user_id))


def test_filter_by_resource_type_and_id(client: TestClient, owner: Account) -> None:
    first = create_agent(client, owner.headers)
    second = create_agent(client, owner.headers)
    client.patch(f"/api/agents/{first['id']}", json={"description": "x"}, headers=owner.headers)
    create_key(client, owner)

    assert actions(audit_entries(client, owner.headers, resourceType="agent")) == [
        "agent.update",
        "agent.create",
        "agent.create",
    ]
    assert actions(audit_entries(client, owner.headers, resourceType="api_key")) == ["apikey.create"]
    by_id = audit_entries(client, owner.headers, resourceId=first["id"])
    assert actions(by_id) == ["agent.update", "agent.create"]
    assert [entry["resourceId"] for entry in audit_entries(client, owner.headers, resourceId=second["id"])] == [
        second["id"]
    ]


def test_filters_combine(client: TestClient, owner: Account) -> None:
    agent = create_agent(client, owner.headers)
    client.patch(f"/api/agents/{agent['id']}", json={"description": "x"}, headers=owner.headers)
    create_agent(client, owner.headers)

    both = audit_entries(client, owner.headers, action="agent.create", resourceId=agent["id"], userId=owner.user_id)
    assert [(entry["action"], entry["resourceId"]) for entry in both] == [("agent.create", agent["id"])]


def test_an_unknown_filter_value_matches_nothing(client: TestClient, owner: Account) -> None:
    assert audit_entries(client, owner.headers, action="agent.explode") == []
    assert audit_entries(client, owner.headers, userId="00000000-0000-4000-8000-000000000000") == []


# --- time ---------------------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def hourly(client: TestClient, owner: Account) -> list[datetime]:
    """Three agents created an hour apart (tomorrow, so the owner's JWT is already valid)."""
    base = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    moments = [base + timedelta(hours=hour) for hour in range(3)]
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            create_agent(client, owner.headers, name=f"agent-{moment.hour:02d}")
    return moments


def created_names(client: TestClient, owner: Account, **params: str) -> list[str]:
    entries = audit_entries(client, owner.headers, action="agent.create", **params)
    return [entry["after"]["name"] for entry in entries]


@pytest.mark.both_databases
def test_from_and_to_are_inclusive(client: TestClient, owner: Account, hourly: list[datetime]) -> None:
    first, middle, last = (f"agent-{moment.hour:02d}" for moment in hourly)
    assert created_names(client, owner, **{"from": iso(hourly[1])}) == [last, middle]
    assert created_names(client, owner, to=iso(hourly[1])) == [middle, first]
    assert created_names(client, owner, **{"from": iso(hourly[1]), "to": iso(hourly[1])}) == [middle]
    assert created_names(client, owner, **{"from": iso(hourly[0] + timedelta(seconds=1))}) == [last, middle]
    assert created_names(client, owner, to=iso(hourly[2] - timedelta(seconds=1))) == [middle, first]


@pytest.mark.both_databases
def test_from_and_to_honour_the_given_offset(client: TestClient, owner: Account, hourly: list[datetime]) -> None:
    """09:00+02:00 is 07:00Z; a time without a zone is taken as UTC."""
    shifted = hourly[1].astimezone(UTC).replace(tzinfo=None) + timedelta(hours=2)
    with_offset = shifted.isoformat() + "+02:00"
    without_zone = hourly[1].replace(tzinfo=None).isoformat()
    assert created_names(client, owner, **{"from": with_offset, "to": with_offset}) == [f"agent-{hourly[1].hour:02d}"]
    assert created_names(client, owner, **{"from": without_zone, "to": without_zone}) == [f"agent-{hourly[1].hour:02d}"]


@pytest.mark.both_databases
def test_an_entrys_own_timestamp_finds_it_with_from_and_to(client: TestClient, owner: Account) -> None:
    """Copying createdAt from an entry into from and to finds that entry, though it is shown to the
    millisecond and kept more finely."""
    for _ in range(5):
        create_agent(client, owner.headers)
    for entry in audit_entries(client, owner.headers, action="agent.create"):
        stamp = str(entry["createdAt"])
        found = audit_entries(client, owner.headers, action="agent.create", **{"from": stamp, "to": stamp})
        assert entry["id"] in [other["id"] for other in found], stamp


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00:00Z", "12:00"])
def test_a_malformed_time_is_a_422_naming_it(client: TestClient, owner: Account, bad: str) -> None:
    for name in ("from", "to"):
        response = client.get("/api/audit", params={name: bad}, headers=owner.headers)
        assert response.status_code == 422
        assert [detail["field"] for detail in response.json()["details"]] == [name]


# --- limit and order ----------------------------------------------------------------------------


@pytest.fixture
def sixty(client: TestClient, owner: Account) -> list[str]:
    """Sixty agents created one after another (61 entries with the registration), newest first."""
    names = [f"agent-{n:02d}" for n in range(60)]
    for name in names:
        create_agent(client, owner.headers, name=name)
    return names[::-1]


@pytest.mark.both_databases
def test_the_limit_defaults_to_50_newest_first(client: TestClient, owner: Account, sixty: list[str]) -> None:
    entries = audit_entries(client, owner.headers)
    assert len(entries) == 50
    assert [entry["after"]["name"] for entry in entries] == sixty[:50]


@pytest.mark.parametrize(("limit", "count"), [(1, 1), (3, 3), (61, 61), (200, 61)])
def test_a_limit_up_to_200_is_honoured(
    client: TestClient, owner: Account, sixty: list[str], limit: int, count: int
) -> None:
    entries = audit_entries(client, owner.headers, limit=limit)
    assert len(entries) == count
    assert actions(entries)[-1] == ("auth.register" if count == 61 else "agent.create")


@pytest.mark.parametrize("limit", ["201", "0", "-1", "1000", "ten"])
def test_a_limit_outside_1_to_200_is_a_422(client: TestClient, owner: Account, limit: str) -> None:
    response = client.get("/api/audit", params={"limit": limit}, headers=owner.headers)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert [detail["field"] for detail in body["details"]] == ["limit"]
