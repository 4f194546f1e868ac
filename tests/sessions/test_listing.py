"""GET /api/sessions: newest first, filtered by agent, status and the text of the turns."""

import pytest
from fastapi.testclient import TestClient

from tests.factories import Account, create_agent, register
from tests.sessions.factories import add_turn, start_session

pytestmark = pytest.mark.both_databases  # text search is LIKE, whose rules differ per dialect


def _ids(client: TestClient, owner: Account, **params: object) -> list[str]:
    response = client.get("/api/sessions", params=params, headers=owner.headers)
    assert response.status_code == 200, response.text
    return [session["id"] for session in response.json()]


def test_sessions_are_listed_newest_first(client: TestClient) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    created = [start_session(client, owner.headers, agent["id"])["id"] for _ in range(4)]
    assert _ids(client, owner) == created[::-1]


def test_the_list_is_filtered_by_agent_and_by_status(client: TestClient) -> None:
    owner = register(client)
    support, sales = create_agent(client, owner.headers), create_agent(client, owner.headers)
    active_support = start_session(client, owner.headers, support["id"])["id"]
    done_support = start_session(client, owner.headers, support["id"])["id"]
    failed_sales = start_session(client, owner.headers, sales["id"])["id"]
    client.post(f"/api/sessions/{done_support}/end", json={}, headers=owner.headers)
    client.post(f"/api/sessions/{failed_sales}/end", json={"status": "FAILED"}, headers=owner.headers)

    assert _ids(client, owner, agentId=support["id"]) == [done_support, active_support]
    assert _ids(client, owner, agentId=sales["id"]) == [failed_sales]
    assert _ids(client, owner, status="ACTIVE") == [active_support]
    assert _ids(client, owner, status="COMPLETED") == [done_support]
    assert _ids(client, owner, agentId=support["id"], status="FAILED") == []
    assert _ids(client, owner, agentId="no-such-agent") == []


def test_q_finds_sessions_by_the_text_of_any_turn_case_insensitively(client: TestClient) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    refund = start_session(client, owner.headers, agent["id"])["id"]
    add_turn(client, owner.headers, refund, "Hi there")
    add_turn(client, owner.headers, refund, "I want a REFUND for order 17", role="ASSISTANT")
    tools = start_session(client, owner.headers, agent["id"])["id"]
    add_turn(client, owner.headers, tools, [{"type": "tool_result", "output": {"city": "Zürich"}}], role="TOOL")
    add_turn(client, owner.headers, tools, {"text": "Weiße Straße"})
    start_session(client, owner.headers, agent["id"])  # no turns at all

    assert _ids(client, owner, q="refund") == [refund]
    assert _ids(client, owner, q="Refund For Order") == [refund]
    assert _ids(client, owner, q="zürich") == [tools]
    assert _ids(client, owner, q="ZÜRICH") == [tools]
    assert _ids(client, owner, q="weisse strasse") == [tools]
    assert _ids(client, owner, q="HI THERE") == [refund]
    assert _ids(client, owner, q="city") == []  # the text of the content, not its keys
    assert _ids(client, owner, q="nowhere to be found") == []


def test_q_takes_percent_and_underscore_literally(client: TestClient) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    discount = start_session(client, owner.headers, agent["id"])["id"]
    add_turn(client, owner.headers, discount, "a 50% discount on snake_case")
    plain = start_session(client, owner.headers, agent["id"])["id"]
    add_turn(client, owner.headers, plain, "a 50 percent discount on snakeXcase")

    assert _ids(client, owner, q="50%") == [discount]
    assert _ids(client, owner, q="snake_case") == [discount]
    assert _ids(client, owner, q="%") == [discount]


def test_q_combines_with_the_other_filters(client: TestClient) -> None:
    owner = register(client)
    support, sales = create_agent(client, owner.headers), create_agent(client, owner.headers)
    ended = start_session(client, owner.headers, support["id"])["id"]
    add_turn(client, owner.headers, ended, "invoice question")
    client.post(f"/api/sessions/{ended}/end", json={}, headers=owner.headers)
    active = start_session(client, owner.headers, sales["id"])["id"]
    add_turn(client, owner.headers, active, "invoice question")

    assert _ids(client, owner, q="invoice") == [active, ended]
    assert _ids(client, owner, q="invoice", status="COMPLETED") == [ended]
    assert _ids(client, owner, q="invoice", agentId=sales["id"]) == [active]


def test_an_empty_q_does_not_filter(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    assert _ids(client, owner, q="") == [session["id"]]


def test_limit_defaults_to_50_and_caps_the_list(client: TestClient) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    created = [start_session(client, owner.headers, agent["id"])["id"] for _ in range(52)]
    assert _ids(client, owner) == created[::-1][:50]
    assert _ids(client, owner, limit=3) == created[::-1][:3]
    assert len(_ids(client, owner, limit=200)) == 52


def test_a_limit_over_200_or_an_unknown_status_is_a_validation_error(client: TestClient) -> None:
    owner = register(client)
    for params in ({"limit": 201}, {"limit": 0}, {"limit": "many"}, {"status": "DONE"}, {"q": "x" * 201}):
        response = client.get("/api/sessions", params=params, headers=owner.headers)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["code"] == "validation_error"
