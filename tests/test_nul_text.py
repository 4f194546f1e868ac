"""Text no database can store is refused with the same 422 on every database: a NUL character (U+0000),
or a lone UTF-16 surrogate (``"\\ud800"`` without its pair), in any field, key or nested value.

PostgreSQL cannot store a NUL in text or JSON (it answered 500 before anything checked); SQLite could,
so the rule is the API's, not the database's. A lone surrogate is valid JSON grammar that no encoder
can write as UTF-8: both databases answered 500 (SQLite stored one in a key as three replacement
characters). Nothing is stored when either is refused.

And a body must be UTF-8: a UTF-16 or UTF-32 body was read by Python's parser, past every guard that
reads the body's bytes as UTF-8 (a UTF-16 sign-in with a NUL in its email answered 500 on PostgreSQL).

Cases are looped inside a test rather than parametrized where they share an account: each test costs a
database of its own, on each database.
"""

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from provenant.request_guard import LONE_SURROGATE, MESSAGE
from tests.factories import PASSWORD, create_agent, key_headers, register, unique

pytestmark = pytest.mark.both_databases  # PostgreSQL cannot store a NUL: the 422 must come on both alike

NUL = "\x00"
JSON = {"Content-Type": "application/json"}
# Each hostile character, and the rule its 422 states.
HOSTILE = [(NUL, MESSAGE), ("\ud800", LONE_SURROGATE), ("\udfff", LONE_SURROGATE)]


def post(client: TestClient, url: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """``body`` as JSON with every non-ASCII character escaped: the only way to send a lone surrogate
    (httpx's ``json=`` writes UTF-8, which cannot hold one)."""
    return client.post(url, content=json.dumps(body).encode(), headers={**(headers or {}), **JSON})


def assert_refused(response: Any, field: str, message: str = MESSAGE) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["details"] == [{"field": field, "message": message}]


def session_url(client: TestClient, headers: dict[str, str]) -> str:
    session = client.post("/api/sessions", json={"agentId": create_agent(client, headers)["id"]}, headers=headers)
    return f"/api/sessions/{session.json()['id']}"


def test_sign_in_and_registration_refuse_it_without_an_account(client: TestClient) -> None:
    for char, message in HOSTILE:
        login = {"email": f"a{char}@example.com", "password": PASSWORD}
        assert_refused(post(client, "/api/auth/login", login), "email", message)
        login = {"email": "a@example.com", "password": f"p{char}"}
        assert_refused(post(client, "/api/auth/login", login), "password", message)
        body = {
            "name": f"Ada{char}",
            "email": f"{unique('ada')}@example.com",
            "password": PASSWORD,
            "orgName": "Acme",
            "orgSlug": unique("org"),
        }
        assert_refused(post(client, "/api/auth/register", body), "name", message)
        # Nothing was created: the same registration without it succeeds.
        assert client.post("/api/auth/register", json={**body, "name": "Ada"}).status_code == 201


def test_names_of_agents_and_keys_refuse_it(client: TestClient) -> None:
    owner = register(client)
    for char, message in HOSTILE:
        refused = post(client, "/api/agents", {"name": f"bot{char}", "slug": "bot"}, owner.headers)
        assert_refused(refused, "name", message)
        assert_refused(post(client, "/api/org/keys", {"name": f"ci{char}"}, owner.headers), "name", message)
    assert client.get("/api/agents", headers=owner.headers).json() == []
    assert client.get("/api/org/keys", headers=owner.headers).json() == []


def test_a_field_the_route_ignores_refuses_it_too(client: TestClient) -> None:
    """The rule holds for the whole body, read or not (schemathesis sends unknown fields holding one)."""
    owner = register(client)
    for char, message in HOSTILE:
        body = {"name": "bot", "slug": "bot", "extra": {"note": [f"x{char}"]}}
        assert_refused(post(client, "/api/agents", body, owner.headers), "extra.note[0]", message)
        body = {"name": "bot", "slug": "bot", char: 1}  # a key that is nothing else: the field is the body
        assert_refused(post(client, "/api/agents", body, owner.headers), "body", message)
    assert client.get("/api/agents", headers=owner.headers).json() == []


def test_an_id_in_a_path_refuses_a_nul(client: TestClient) -> None:
    owner = register(client)
    for path in ("/api/agents/%00", "/api/sessions/abc%00def", "/api/org/keys/%00"):
        assert_refused(client.get(path, headers=owner.headers), "path")
        assert_refused(client.delete(path, headers=owner.headers), "path")


def test_a_surrogate_or_bad_utf8_in_a_path_or_query_is_a_4xx(client: TestClient) -> None:
    """Starlette decodes the path and the query with replacement characters: no surrogate gets through."""
    owner = register(client)
    for encoded in ("%ED%A0%80", "%ED%BF%BF", "%ff", "%C0%80"):
        for path in (f"/api/agents/{encoded}", f"/api/sessions/{encoded}", f"/api/org/keys/{encoded}/usage"):
            assert client.get(path, headers=owner.headers).status_code == 404, path
        assert client.delete(f"/api/agents/{encoded}", headers=owner.headers).status_code == 404
        for query in (f"action={encoded}", f"resourceId={encoded}", f"cursor={encoded}"):
            assert client.get(f"/api/audit?{query}", headers=owner.headers).status_code in (200, 422), query


def test_an_audit_filter_refuses_a_nul(client: TestClient) -> None:
    owner = register(client)
    assert_refused(client.get("/api/audit?action=auth.login%00", headers=owner.headers), "action")
    assert_refused(client.get("/api/audit/export?resourceId=%00", headers=owner.headers), "resourceId")


def test_turn_content_and_metadata_refuse_it_anywhere(client: TestClient) -> None:
    owner = register(client)
    headers = key_headers(client, owner)
    url = session_url(client, headers)
    turns = f"{url}/turns"
    for char, message in HOSTILE:
        assert_refused(post(client, turns, {"role": "USER", "content": f"hi{char}"}, headers), "content", message)
        nested = {"role": "TOOL", "content": {"parts": [{"text": "ok"}, {"text": f"x{char}"}]}}
        assert_refused(post(client, turns, nested, headers), "content.parts[1].text", message)
        keyed = {"role": "USER", "content": "hi", "metadata": {f"k{char}": "v"}}
        assert_refused(post(client, turns, keyed, headers), "metadata.k", message)
        assert_refused(post(client, turns, {"role": "TOOL", "content": {char: 1}}, headers), "content.", message)
        batch = [{"role": "USER", "content": "fine"}, {"role": "USER", "content": ["ok", {"deep": char}]}]
        assert_refused(post(client, turns, batch, headers), "[1].content[1].deep", message)
        session_fields = {"agentId": url.rsplit("/", 1)[1], "metadata": {"a": [char]}, "tags": ["ok"]}
        assert_refused(post(client, "/api/sessions", session_fields, headers), "metadata.a[0]", message)
        patch = client.patch(url, content=json.dumps({"metadata": {"b": char}}).encode(), headers={**headers, **JSON})
        assert_refused(patch, "metadata.b", message)
    assert client.get(url, headers=headers).json()["turns"] == []


# Raw bodies: each spells a lone surrogate in its own way.
LONE_SPELLINGS = [
    b'{"role": "USER", "content": "\\uD800"}',  # upper-case hex
    b'{"role": "USER", "content": "\\ud83d"}',  # the high half of an emoji, alone
    b'{"role": "USER", "content": "\\ude00\\ud83d"}',  # both halves, in the wrong order
    b'{"role": "USER", "content": "\\ud83d\\ud83d\\ude00"}',  # a high one, then a whole pair
    b'{"role": "USER", "content": "\\\\\\ud800"}',  # an escaped backslash, then a real escape
    b'{"role": "USER", "content": "\\\\ud83d\\ude00"}',  # the text \ud83d, then the low half alone
    b'{"role": "USER", "content": "\\ud83d\\\\\\ude00"}',  # two halves with an escaped backslash between
]
# Raw bodies that hold no lone surrogate, and the text each stores.
STORED_AS = [
    (b'{"role": "USER", "content": "\\ud83d\\ude00 \\uD83D\\uDE00"}', "\U0001f600 \U0001f600"),  # pairs
    (b'{"role": "USER", "content": "\\\\ud800"}', "\\ud800"),  # the six characters \ud800, as text
    (b'{"role": "USER", "content": "\\\\\\\\ud800 \\ud800\\udc00"}', "\\\\ud800 \U00010000"),
    ('{"role": "USER", "content": "\U0001f600 é"}'.encode(), "\U0001f600 é"),  # UTF-8 itself
    (b'{"role": "USER", "content": "regex: \\\\u0000 matches NUL"}', "regex: \\u0000 matches NUL"),
]


def test_every_spelling_of_a_lone_surrogate_is_refused_and_pairs_are_stored(client: TestClient) -> None:
    owner = register(client)
    headers = key_headers(client, owner)
    url = session_url(client, headers)
    for body in LONE_SPELLINGS:
        refused = client.post(f"{url}/turns", content=body, headers={**headers, **JSON})
        assert_refused(refused, "content", LONE_SURROGATE)
    assert client.get(url, headers=headers).json()["turns"] == []
    for body, stored in STORED_AS:
        created = client.post(f"{url}/turns", content=body, headers={**headers, **JSON})
        assert created.status_code == 201, created.text
        assert created.json()["content"] == stored
    assert [turn["content"] for turn in client.get(url, headers=headers).json()["turns"]] == [s for _, s in STORED_AS]


# --- the body's encoding ----------------------------------------------------------------------------

ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]
# Refused by the guard, which says why: the parser would have read each as something else than UTF-8.
MISREAD = [
    b'{"name": "\xed\xa0\x80", "slug": "x"}',  # a surrogate written as UTF-8 bytes (read with surrogatepass)
    b'{"name": "bot", "slug": "x"\x00}',  # a raw NUL byte (the parser's sign of UTF-16 or UTF-32)
]
# Refused by the parser itself.
NOT_UTF8 = [
    '{"name": "café", "slug": "cafe"}'.encode("latin-1"),
    b'{"name": "\xc0\x80", "slug": "x"}',  # an overlong NUL
    b'{"name": "\xf4\x90\x80\x80", "slug": "x"}',  # past U+10FFFF
]


def assert_not_utf8(
    response: httpx.Response, error: str = "The request body is not valid JSON: send JSON encoded as UTF-8."
) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == {"error": error, "code": "invalid_json"}


def test_a_utf16_or_utf32_sign_in_is_refused_before_anything_reads_it(client: TestClient) -> None:
    """With a NUL in its email it answered 500 on PostgreSQL, and the limiter never heard of it; now it is a
    400 before authentication, whatever it holds: the right password in UTF-16 is refused too."""
    account = register(client)
    for encoding in ENCODINGS:
        for email in (f"a{NUL}@example.com", account.email):
            body = json.dumps({"email": email, "password": PASSWORD}).encode(encoding)
            assert_not_utf8(client.post("/api/auth/login", content=body, headers=JSON))


def test_a_body_that_is_not_utf8_stores_nothing(client: TestClient) -> None:
    owner = register(client)
    headers = key_headers(client, owner)
    registration = {
        "name": "Ada",
        "email": f"{unique('ada')}@example.com",
        "password": PASSWORD,
        "orgName": "A",
        "orgSlug": unique("o"),
    }
    for encoding in ENCODINGS:
        for agent in ({"name": "bot", "slug": "bot"}, {"name": f"bot{NUL}", "slug": "bot"}):
            body = json.dumps(agent).encode(encoding)
            assert_not_utf8(client.post("/api/agents", content=body, headers={**headers, **JSON}))
        body = json.dumps(registration).encode(encoding)
        assert_not_utf8(client.post("/api/auth/register", content=body, headers=JSON))
    for body in MISREAD:
        assert_not_utf8(client.post("/api/agents", content=body, headers={**headers, **JSON}))
    for body in NOT_UTF8:
        response = client.post("/api/agents", content=body, headers={**headers, **JSON})
        assert_not_utf8(response, "The request body is not valid JSON.")
    assert client.get("/api/agents", headers=headers).json() == []
    login = {"email": registration["email"], "password": PASSWORD}
    assert client.post("/api/auth/login", json=login).status_code == 401


def test_utf8_with_a_byte_order_mark_is_still_read(client: TestClient) -> None:
    """RFC 8259 lets a reader ignore the mark; Python's does, and nothing here is misled by it."""
    owner = register(client)
    body = b"\xef\xbb\xbf" + json.dumps({"name": "bot", "slug": "bot"}).encode()
    assert client.post("/api/agents", content=body, headers={**owner.headers, **JSON}).status_code == 201
