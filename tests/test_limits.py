"""Bounds on what a request may ask of the server: how deeply its JSON nests, how long a page is, where a
page may start.

Before: a turn whose content nested 500 arrays deep answered 500 (pydantic's serialiser gave up), and
100,000 ``[`` made the parser give up with a 400 outside the contract; the same body in UTF-16 was stored
(the depth guard reads UTF-8). A cursor whose instant lay outside the years 1 to 9999 in UTC answered 500
on all four paged lists.
"""

import base64
import json
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


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32-be"])
def test_a_deep_body_in_utf16_or_utf32_is_refused_and_not_stored(
    client: TestClient, turns_url: tuple[str, dict[str, str]], encoding: str
) -> None:
    url, headers = turns_url
    for levels in (40, 3):  # too deep or not, it is not UTF-8
        body = json.dumps({"role": "TOOL", "content": nested(levels)}).encode(encoding)
        response = client.post(url, content=body, headers={**headers, **JSON})
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid_json"
    assert stored_turns(client, turns_url) == []


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


# --- cursors ---------------------------------------------------------------------------------------

PAGED = ["/api/agents", "/api/sessions", "/api/audit", "/api/org/keys"]


def cursor(*items: Any) -> str:
    """A cursor as this server writes them (base64url of a JSON array, unpadded), holding ``items``."""
    return base64.urlsafe_b64encode(json.dumps(list(items)).encode()).decode().rstrip("=")


ID = "00000000-0000-4000-8000-000000000000"
BAD_CURSORS = [
    cursor("0001-01-01T00:00:00+01:00", ID),  # before the year 1 in UTC: answered 500
    cursor("9999-12-31T23:59:59-01:00", ID),  # after the year 9999 in UTC: answered 500
    cursor("2026-01-01T00:00:00", ID),  # no zone
    cursor("2026-01-01T00:00:00Z", "a\x00b"),  # a NUL in the id
    cursor("2026-01-01T00:00:00Z", "\ud800"),  # a lone surrogate in the id
    cursor("2026-01-01T00:00:00Z", 5),
    cursor("2026-01-01T00:00:00Z", ID, "more"),
    cursor("yesterday", ID),
    "0" * 200,  # schemathesis' favourite: any string the document allows
    "not a cursor!",
]
# Instants at the edges of what UTC can express, written in any zone: each is a place to start from.
EDGE_CURSORS = [
    cursor("0001-01-01T00:00:00+00:00", ID),
    cursor("0001-01-01T01:00:00+01:00", ID),
    cursor("9999-12-31T23:59:59.999999+00:00", ID),
    cursor("2026-01-01T00:00:00+23:59", ID),
]


@pytest.mark.both_databases  # the cursor's instant is compared as each database stores timestamps
def test_a_cursor_that_is_not_ours_is_a_422_on_every_paged_list(client: TestClient, owner: Account) -> None:
    headers = key_headers(client, owner)
    create_agent(client, headers)  # something on every list: an agent, its audit entries, a key
    client.post("/api/sessions", json={"agentId": create_agent(client, headers)["id"]}, headers=headers)
    for path in PAGED:
        for bad in BAD_CURSORS:
            response = client.get(path, params={"cursor": bad}, headers=owner.headers)
            assert response.status_code == 422, (path, bad, response.text)
            assert response.json()["details"] == [
                {"field": "cursor", "message": "Not a cursor from this list; start again without one."}
            ]
        for edge in EDGE_CURSORS:
            response = client.get(path, params={"cursor": edge}, headers=owner.headers)
            assert response.status_code == 200, (path, edge, response.text)
            assert isinstance(response.json(), list)
        # The year 9999 sorts after everything: the whole list follows it.
        latest = client.get(path, params={"cursor": cursor("9999-12-31T23:59:59+00:00", "~")}, headers=owner.headers)
        assert latest.json() == client.get(path, headers=owner.headers).json()
