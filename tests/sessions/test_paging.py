"""GET /api/sessions a page at a time (the contract's "Lists that page"): limit, cursor, Link rel="next"."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Account, create_agent, next_url, register
from tests.sessions.factories import start_session

pytestmark = pytest.mark.both_databases  # the cursor is compared as each database stores timestamps


def _page(client: TestClient, owner: Account, url: str, **params: Any) -> tuple[list[str], str | None]:
    # No params at all for a Link's URL: httpx would replace its query with an empty one.
    response = client.get(url, params=params or None, headers=owner.headers)
    assert response.status_code == 200, response.text
    return [session["id"] for session in response.json()], next_url(response)


def test_pages_follow_link_next_newest_first_until_the_last_page_has_none(client: TestClient) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    created = [start_session(client, owner.headers, agent["id"])["id"] for _ in range(7)]

    first, following = _page(client, owner, "/api/sessions", limit=3)
    assert first == created[::-1][:3]
    assert following is not None and following.startswith("http://testserver/api/sessions?")
    second, following = _page(client, owner, following)
    assert second == created[::-1][3:6]
    assert following is not None
    last, following = _page(client, owner, following)
    assert last == created[::-1][6:]
    assert following is None


def test_a_list_that_fits_one_page_has_no_link(client: TestClient) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    created = [start_session(client, owner.headers, agent["id"])["id"] for _ in range(3)]
    assert _page(client, owner, "/api/sessions", limit=3) == (created[::-1], None)
    assert _page(client, owner, "/api/sessions") == (created[::-1], None)


def test_paging_while_sessions_are_created_returns_every_earlier_session_exactly_once(client: TestClient) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    existing = [start_session(client, owner.headers, agent["id"])["id"] for _ in range(10)]

    seen: list[str] = []
    url: str | None = "/api/sessions?limit=3"
    while url is not None:
        ids, url = _page(client, owner, url)
        seen.extend(ids)
        start_session(client, owner.headers, agent["id"])  # newer than every page already read

    assert seen == existing[::-1]


def test_the_next_page_keeps_the_filters(client: TestClient) -> None:
    owner = register(client)
    support, sales = create_agent(client, owner.headers), create_agent(client, owner.headers)
    mine = []
    for _ in range(4):
        mine.append(start_session(client, owner.headers, support["id"])["id"])
        start_session(client, owner.headers, sales["id"])

    first, following = _page(client, owner, "/api/sessions", agentId=support["id"], limit=2)
    assert following is not None and f"agentId={support['id']}" in following
    second, following = _page(client, owner, following)
    assert first + second == mine[::-1]
    assert following is None


def test_a_cursor_that_is_not_one_of_ours_is_a_validation_error(client: TestClient) -> None:
    owner = register(client)
    for cursor in ("not-a-cursor", "W10", "x" * 201):
        response = client.get("/api/sessions", params={"cursor": cursor}, headers=owner.headers)
        assert response.status_code == 422, (cursor, response.text)
        assert response.json()["details"][0]["field"] == "cursor"
