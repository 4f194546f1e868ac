"""The audit log pages like every list (the contract's "Lists that page")."""

import pytest
from fastapi.testclient import TestClient

from tests.factories import Account, create_agent, next_url, register

pytestmark = pytest.mark.both_databases  # the cursor is compared as each database stores timestamps

AUDIT = "http://testserver/api/audit"


@pytest.fixture
def owner(client: TestClient) -> Account:
    return register(client)


def test_paging_while_entries_are_written_returns_every_existing_entry_once(client: TestClient, owner: Account) -> None:
    for _ in range(11):
        create_agent(client, owner.headers)  # each writes agent.create
    existing = {entry["id"] for entry in client.get("/api/audit?limit=200", headers=owner.headers).json()}
    assert len(existing) >= 12  # the registration too

    seen: list[str] = []
    url: str | None = "/api/audit?limit=4"
    while url:
        response = client.get(url, headers=owner.headers)
        assert response.status_code == 200, response.text
        seen += [entry["id"] for entry in response.json()]
        create_agent(client, owner.headers)  # newer entries never show up on later pages
        url = next_url(response, to=AUDIT)

    assert len(seen) == len(set(seen)) == len(existing)
    assert set(seen) == existing


def test_the_default_page_holds_fifty_entries(client: TestClient, owner: Account) -> None:
    for _ in range(50):
        create_agent(client, owner.headers)
    response = client.get("/api/audit", headers=owner.headers)
    assert len(response.json()) == 50
    assert next_url(response, to=AUDIT)
