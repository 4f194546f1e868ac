"""Bounds on what a request may ask of the server: how deeply its JSON nests, how long a page is.

Before: a turn whose content nested 500 arrays deep answered 500 (pydantic's serialiser gave up), and
100,000 ``[`` made the parser give up with a 400 outside the contract.
"""

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.factories import Account, create_agent, key_headers, register
from tests.servers import LiveServer

LIMIT = 32
JSON = {"Content-Type": "application/json"}


def nested(levels: int) -> Any:
    """``levels`` of arrays and objects, alternately, around one string."""
    value: Any = "leaf"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


def assert_too_deep(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    message = f"must not nest arrays and objects more than {LIMIT} levels deep"
    assert body["details"] == [{"field": "body", "message": message}]


@pytest.fixture
def owner(client: TestClient) -> Account:
    return register(client)


@pytest.fixture
def turns_url(client: TestClient, owner: Account) -> tuple[str, dict[str, str]]:
    headers = key_headers(client, owner)
    agent = create_agent(client, headers)
    session = client.post("/api/sessions", json={"agentId": agent["id"]}, headers=headers).json()
    return f"/api/sessions/{session['id']}/turns", headers


def stored_turns(client: TestClient, turns_url: tuple[str, dict[str, str]]) -> list[dict[str, Any]]:
    url, headers = turns_url
    return list(client.get(url.removesuffix("/turns"), headers=headers).json()["turns"])


# --- JSON nesting ---------------------------------------------------------------------------------


def test_a_turn_nested_up_to_the_limit_is_stored(client: TestClient, turns_url: tuple[str, dict[str, str]]) -> None:
    url, headers = turns_url
    content = nested(LIMIT - 1)  # the body's own object is the first level
    response = client.post(url, json={"role": "TOOL", "content": content}, headers=headers)
    assert response.status_code == 201, response.text
    assert [turn["content"] for turn in stored_turns(client, turns_url)] == [content]


@pytest.mark.parametrize("levels", [LIMIT, 500])
def test_a_turn_nested_past_the_limit_is_refused_and_not_stored(
    client: TestClient, turns_url: tuple[str, dict[str, str]], levels: int
) -> None:
    url, headers = turns_url
    assert_too_deep(client.post(url, json={"role": "TOOL", "content": nested(levels)}, headers=headers))
    in_metadata = {"role": "USER", "content": "hi", "metadata": nested(levels)}
    assert_too_deep(client.post(url, json=in_metadata, headers=headers))
    assert stored_turns(client, turns_url) == []


def test_brackets_in_text_are_not_nesting(client: TestClient, turns_url: tuple[str, dict[str, str]]) -> None:
    url, headers = turns_url
    content = "[{" * 1000 + ' \\" ' + "]}" * 10
    response = client.post(url, json={"role": "USER", "content": content}, headers=headers)
    assert response.status_code == 201, response.text
    assert stored_turns(client, turns_url)[0]["content"] == content


def test_a_deep_body_holding_a_nul_gets_the_depth_answer(client: TestClient, owner: Account) -> None:
    """The NUL check parses the body to name the field: depth is checked first, so it never recurses."""
    body = b'{"name": ' + b"[" * 5000 + b'"\\u0000"' + b"]" * 5000 + b"}"
    assert_too_deep(client.post("/api/agents", content=body, headers={**owner.headers, **JSON}))
    assert client.get("/api/agents", headers=owner.headers).json() == []


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/register", "/api/org/keys", "/api/agents"])
def test_every_route_refuses_a_deep_body(client: TestClient, owner: Account, path: str) -> None:
    response = client.post(path, content=b"[" * (LIMIT + 1) + b"]" * (LIMIT + 1), headers={**owner.headers, **JSON})
    assert_too_deep(response)


def test_a_hundred_thousand_brackets_are_refused_and_the_server_keeps_serving(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        for body in (b"[" * 100_000, b"[" * 100_000 + b"]" * 100_000, b'{"email": ' + b"{" * 100_000):
            assert_too_deep(http.post("/api/auth/login", content=body, headers=JSON))
        assert http.get("/api/health").json() == {"status": "ok"}
        owner = register(http)
        assert http.get("/api/auth/me", headers=owner.headers).status_code == 200
    assert "Traceback" not in live_server.log()


# --- page sizes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/sessions", "/api/audit"])
@pytest.mark.parametrize("limit", ["0", "-1", "201", "1000", str(10**30), "ten", "1.5"])
def test_a_page_size_outside_1_to_200_is_a_422(client: TestClient, owner: Account, path: str, limit: str) -> None:
    response = client.get(path, params={"limit": limit}, headers=owner.headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert [detail["field"] for detail in body["details"]] == ["limit"]


@pytest.mark.parametrize("path", ["/api/sessions", "/api/audit"])
@pytest.mark.parametrize("limit", ["1", "200"])
def test_a_page_size_from_1_to_200_is_honoured(client: TestClient, owner: Account, path: str, limit: str) -> None:
    response = client.get(path, params={"limit": limit}, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert len(response.json()) <= int(limit)
