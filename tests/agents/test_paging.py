"""The agent list pages (the contract's "Lists that page"): limit, cursor, Link rel="next"."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Account, create_agent, next_url, register

pytestmark = pytest.mark.both_databases  # the cursor is compared as each database stores timestamps


@pytest.fixture
def owner(client: TestClient) -> Account:
    return register(client)


def test_paging_while_agents_are_added_returns_every_existing_agent_once(client: TestClient, owner: Account) -> None:
    existing = {create_agent(client, owner.headers)["id"] for _ in range(23)}

    seen: list[str] = []
    url: str | None = "/api/agents?limit=5"
    pages = 0
    while url:
        response = client.get(url, headers=owner.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert 0 < len(page) <= 5
        seen += [agent["id"] for agent in page]
        create_agent(client, owner.headers)  # a newer agent lands before the first page, never in the rest
        url = next_url(response)
        if url:
            assert url.startswith("http://testserver/api/agents?")  # absolute, as GitHub's
        pages += 1

    assert pages == 5  # 23 agents, 5 a page: the last page has 3 and no Link
    assert len(seen) == len(set(seen))
    assert set(seen) == existing


def test_a_page_of_the_whole_list_has_no_next_link(client: TestClient, owner: Account) -> None:
    for _ in range(3):
        create_agent(client, owner.headers)
    response = client.get("/api/agents", params={"limit": 3}, headers=owner.headers)
    assert len(response.json()) == 3
    assert "link" not in response.headers


def test_the_next_link_keeps_the_filter(client: TestClient, owner: Account) -> None:
    agents = [create_agent(client, owner.headers) for _ in range(4)]
    client.delete(f"/api/agents/{agents[0]['id']}", headers=owner.headers)
    first = client.get("/api/agents", params={"status": "ACTIVE", "limit": 2}, headers=owner.headers)
    url = next_url(first)
    assert url and "status=ACTIVE" in url
    second = client.get(url, headers=owner.headers)
    listed = [agent["id"] for agent in first.json() + second.json()]
    assert sorted(listed) == sorted(agent["id"] for agent in agents[1:])
    assert next_url(second) is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "W1wiMjAyNlwiXQ"}, "cursor"),
    ],
)
def test_a_bad_limit_or_cursor_is_a_422_naming_it(
    client: TestClient, owner: Account, params: dict[str, str], field: str
) -> None:
    response = client.get("/api/agents", params=params, headers=owner.headers)
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == "validation_error"
    assert [detail["field"] for detail in body["details"]] == [field]
