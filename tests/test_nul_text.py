"""A NUL character (U+0000) in any text is refused with the same 422 on every database.

PostgreSQL cannot store one in text or JSON (it answered 500 before anything checked); SQLite
could, so the rule is the API's, not the database's. Nothing is stored when it is refused.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import PASSWORD, create_agent, key_headers, register, unique

pytestmark = pytest.mark.both_databases  # PostgreSQL cannot store a NUL: the 422 must come on both alike

NUL = "\x00"


def assert_refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["details"] == [{"field": field, "message": "must not contain the NUL character (U+0000)"}]


def test_sign_in_and_registration_refuse_a_nul_without_an_account(client: TestClient) -> None:
    assert_refused(client.post("/api/auth/login", json={"email": f"a{NUL}@example.com", "password": PASSWORD}), "email")
    body = {
        "name": f"Ada{NUL}",
        "email": f"{unique('ada')}@example.com",
        "password": PASSWORD,
        "orgName": "Acme",
        "orgSlug": unique("org"),
    }
    assert_refused(client.post("/api/auth/register", json=body), "name")
    # Nothing was created: the same registration without the NUL succeeds.
    assert client.post("/api/auth/register", json={**body, "name": "Ada"}).status_code == 201


def test_names_of_agents_and_keys_refuse_a_nul(client: TestClient) -> None:
    owner = register(client)
    refused = client.post("/api/agents", json={"name": f"bot{NUL}", "slug": "bot"}, headers=owner.headers)
    assert_refused(refused, "name")
    assert_refused(client.post("/api/org/keys", json={"name": f"ci{NUL}"}, headers=owner.headers), "name")
    assert client.get("/api/agents", headers=owner.headers).json() == []
    assert client.get("/api/org/keys", headers=owner.headers).json() == []


@pytest.mark.parametrize("path", ["/api/agents/%00", "/api/sessions/abc%00def", "/api/org/keys/%00"])
def test_an_id_in_a_path_refuses_a_nul(client: TestClient, path: str) -> None:
    owner = register(client)
    assert_refused(client.get(path, headers=owner.headers), "path")
    assert_refused(client.delete(path, headers=owner.headers), "path")


def test_an_audit_filter_refuses_a_nul(client: TestClient) -> None:
    owner = register(client)
    assert_refused(client.get("/api/audit?action=auth.login%00", headers=owner.headers), "action")
    assert_refused(client.get("/api/audit/export?resourceId=%00", headers=owner.headers), "resourceId")


def test_turn_content_and_metadata_refuse_a_nul_anywhere(client: TestClient) -> None:
    owner = register(client)
    headers = key_headers(client, owner)
    agent = create_agent(client, headers)
    session = client.post("/api/sessions", json={"agentId": agent["id"]}, headers=headers).json()
    turns = f"/api/sessions/{session['id']}/turns"
    assert_refused(client.post(turns, json={"role": "USER", "content": f"hi{NUL}"}, headers=headers), "content")
    nested = {"role": "TOOL", "content": {"parts": [{"text": "ok"}, {"text": f"x{NUL}"}]}}
    assert_refused(client.post(turns, json=nested, headers=headers), "content.parts[1].text")
    keyed = {"role": "USER", "content": "hi", "metadata": {f"k{NUL}": "v"}}
    assert_refused(client.post(turns, json=keyed, headers=headers), "metadata.k")
    assert client.get(f"/api/sessions/{session['id']}", headers=headers).json()["turns"] == []


def test_a_backslash_followed_by_u0000_as_text_is_stored(client: TestClient) -> None:
    """The six characters \\u0000 (an escaped backslash in JSON) are text like any other."""
    owner = register(client)
    headers = key_headers(client, owner)
    agent = create_agent(client, headers)
    session = client.post("/api/sessions", json={"agentId": agent["id"]}, headers=headers).json()
    content = "regex: \\u0000 matches NUL"
    turns = f"/api/sessions/{session['id']}/turns"
    created = client.post(turns, json={"role": "USER", "content": content}, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["content"] == content
