"""The Sessions section of api.md, route by route: shapes, ending, and what the audit log says."""

import re

from fastapi.testclient import TestClient

from tests.factories import bearer, create_agent, create_key, register
from tests.sessions.factories import add_turn, start_session

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SESSION_FIELDS = {
    "id",
    "agentId",
    "agentVersionId",
    "environmentId",
    "externalId",
    "userId",
    "metadata",
    "tags",
    "status",
    "startedAt",
    "endedAt",
    "totalTokens",
    "totalLatencyMs",
    "createdAt",
    "updatedAt",
}
TURN_FIELDS = {
    "id",
    "sessionId",
    "role",
    "content",
    "toolCalls",
    "latencyMs",
    "inputTokens",
    "outputTokens",
    "metadata",
    "clientId",
    "createdAt",
}


def test_a_session_created_over_a_key_has_the_contract_shape(client: TestClient) -> None:
    owner = register(client)
    key = bearer(create_key(client, owner))
    agent = create_agent(client, key)
    body = {
        "agentId": agent["id"],
        "agentVersionId": "v1.2.0",
        "environmentId": "production",
        "externalId": "ticket-4711",
        "userId": "end-user-9",
        "metadata": {"channel": "email", "nested": {"n": 1}},
        "tags": ["support", "eu"],
    }
    response = client.post("/api/sessions", json=body, headers=key)
    assert response.status_code == 201, response.text
    session = response.json()
    assert set(session) == SESSION_FIELDS
    assert {field: session[field] for field in body} == body
    assert session["status"] == "ACTIVE"
    assert session["endedAt"] is None and session["totalTokens"] is None and session["totalLatencyMs"] is None
    for field in ("startedAt", "createdAt", "updatedAt"):
        assert TIMESTAMP.match(session[field]), session[field]


def test_optional_fields_of_a_session_default_to_null_and_no_tags(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    assert session["metadata"] is None and session["tags"] == [] and session["externalId"] is None


def test_a_turn_has_the_contract_shape_and_keeps_structured_content(client: TestClient) -> None:
    owner = register(client)
    key = bearer(create_key(client, owner))
    session = start_session(client, key, create_agent(client, key)["id"])
    content = [{"type": "text", "text": "Looking up your order"}, {"type": "image", "url": "https://x/y.png"}]
    tool_calls = [{"id": "call_1", "name": "lookup_order", "arguments": {"orderId": 42}}]
    turn = add_turn(
        client,
        key,
        session["id"],
        content,
        role="ASSISTANT",
        toolCalls=tool_calls,
        latencyMs=812,
        inputTokens=120,
        outputTokens=48,
        metadata={"model": "gpt-x"},
    )
    assert set(turn) == TURN_FIELDS
    assert turn["sessionId"] == session["id"]
    assert turn["role"] == "ASSISTANT"
    assert turn["content"] == content and turn["toolCalls"] == tool_calls
    assert (turn["latencyMs"], turn["inputTokens"], turn["outputTokens"]) == (812, 120, 48)
    assert turn["metadata"] == {"model": "gpt-x"}
    assert TIMESTAMP.match(turn["createdAt"])


def test_get_returns_the_session_with_its_turns_in_the_order_they_were_added(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"], metadata={"a": 1})
    contents = ["first", {"text": "second"}, ["third"], "fourth"]
    added = [add_turn(client, owner.headers, session["id"], content) for content in contents]

    response = client.get(f"/api/sessions/{session['id']}", headers=owner.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == SESSION_FIELDS | {"turns"}
    assert body["metadata"] == {"a": 1}
    assert [turn["content"] for turn in body["turns"]] == contents
    assert body["turns"] == added


def test_ending_a_session_sets_its_status_end_time_and_totals(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    body = {"status": "FAILED", "totalTokens": 1500, "totalLatencyMs": 4200}
    response = client.post(f"/api/sessions/{session['id']}/end", json=body, headers=owner.headers)
    assert response.status_code == 200, response.text
    ended = response.json()
    assert set(ended) == SESSION_FIELDS
    assert (ended["status"], ended["totalTokens"], ended["totalLatencyMs"]) == ("FAILED", 1500, 4200)
    assert TIMESTAMP.match(ended["endedAt"])
    assert client.get(f"/api/sessions/{session['id']}", headers=owner.headers).json()["status"] == "FAILED"


def test_end_without_a_body_completes_and_sums_totals_from_the_turns(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    add_turn(client, owner.headers, session["id"], "hi", inputTokens=10, latencyMs=5)
    add_turn(client, owner.headers, session["id"], "hello", role="ASSISTANT", outputTokens=32, latencyMs=700)
    add_turn(client, owner.headers, session["id"], "bye")
    ended = client.post(f"/api/sessions/{session['id']}/end", json={}, headers=owner.headers).json()
    assert (ended["status"], ended["totalTokens"], ended["totalLatencyMs"]) == ("COMPLETED", 42, 705)


def test_ending_an_ended_session_again_returns_it_unchanged(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    first = client.post(f"/api/sessions/{session['id']}/end", json={"status": "FAILED"}, headers=owner.headers)
    again = client.post(f"/api/sessions/{session['id']}/end", json={"status": "COMPLETED"}, headers=owner.headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    audit = client.get("/api/audit", params={"action": "session.end"}, headers=owner.headers).json()
    assert len(audit) == 1


def test_a_turn_for_an_ended_session_is_refused_with_session_ended(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    add_turn(client, owner.headers, session["id"], "before the end")
    client.post(f"/api/sessions/{session['id']}/end", json={}, headers=owner.headers)

    response = client.post(
        f"/api/sessions/{session['id']}/turns",
        json={"role": "USER", "content": "too late"},
        headers=owner.headers,
    )
    assert response.status_code == 409
    assert response.json()["code"] == "session_ended"
    turns = client.get(f"/api/sessions/{session['id']}", headers=owner.headers).json()["turns"]
    assert [turn["content"] for turn in turns] == ["before the end"]


def test_patch_with_a_final_status_ends_the_session_as_older_clients_do(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    response = client.patch(f"/api/sessions/{session['id']}", json={"status": "COMPLETED"}, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "COMPLETED"
    assert TIMESTAMP.match(response.json()["endedAt"])
    refused = client.post(
        f"/api/sessions/{session['id']}/turns", json={"role": "USER", "content": "x"}, headers=owner.headers
    )
    assert refused.json()["code"] == "session_ended"


def test_patch_with_only_ended_at_completes_the_session_at_that_time(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    body = {"endedAt": "2031-01-02T03:04:05.678Z"}
    response = client.patch(f"/api/sessions/{session['id']}", json=body, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["endedAt"]) == (
        "COMPLETED",
        "2031-01-02T03:04:05.678Z",
    )


def test_patch_with_active_and_an_end_time_is_a_422_that_changes_nothing(client: TestClient) -> None:
    """A rule between two fields the OpenAPI document states only in words (schemathesis finds it, ST202)."""
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    body = {"status": "ACTIVE", "endedAt": "2031-01-02T03:04:05Z"}
    response = client.patch(f"/api/sessions/{session['id']}", json=body, headers=owner.headers)
    assert response.status_code == 422
    assert response.json()["details"] == [{"field": "endedAt", "message": "an ACTIVE session has no end time"}]
    after = client.get(f"/api/sessions/{session['id']}", headers=owner.headers).json()
    assert (after["status"], after["endedAt"]) == ("ACTIVE", None)


def test_patch_cannot_reopen_an_ended_session(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    client.post(f"/api/sessions/{session['id']}/end", json={}, headers=owner.headers)
    response = client.patch(f"/api/sessions/{session['id']}", json={"status": "ACTIVE"}, headers=owner.headers)
    assert response.status_code == 409
    assert response.json()["code"] == "session_ended"
    assert client.get(f"/api/sessions/{session['id']}", headers=owner.headers).json()["status"] == "COMPLETED"


def test_delete_removes_the_session_and_its_turns(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    add_turn(client, owner.headers, session["id"], "searchable needle")
    response = client.delete(f"/api/sessions/{session['id']}", headers=owner.headers)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert client.get(f"/api/sessions/{session['id']}", headers=owner.headers).status_code == 404
    assert client.get("/api/sessions", params={"q": "needle"}, headers=owner.headers).json() == []
    assert client.delete(f"/api/sessions/{session['id']}", headers=owner.headers).status_code == 404


def test_create_end_and_delete_are_in_the_audit_log_with_the_key_that_did_them(client: TestClient) -> None:
    owner = register(client)
    key = create_key(client, owner)
    headers = bearer(key)
    session = start_session(client, headers, create_agent(client, headers)["id"], metadata={"secret": "s3"})
    add_turn(client, headers, session["id"], "hello")
    client.post(f"/api/sessions/{session['id']}/end", json={}, headers=headers)
    client.delete(f"/api/sessions/{session['id']}", headers=headers)

    entries = client.get("/api/audit", params={"resourceType": "session"}, headers=owner.headers).json()
    assert [entry["action"] for entry in entries] == ["session.delete", "session.end", "session.create"]
    assert {entry["resourceId"] for entry in entries} == {session["id"]}
    key_id = client.get("/api/auth/me", headers=headers).json()["apiKey"]["id"]
    assert {entry["apiKeyId"] for entry in entries} == {key_id}
    assert all(entry["user"]["id"] == owner.user_id for entry in entries)
    assert entries[1]["before"]["status"] == "ACTIVE" and entries[1]["after"]["status"] == "COMPLETED"
    assert "s3" not in str(entries)  # metadata stays out of the audit log


def test_an_unknown_or_malformed_session_id_is_not_found(client: TestClient) -> None:
    owner = register(client)
    # A NUL in the id ("%00") is refused before any lookup: see tests/test_nul_text.py.
    for session_id in ("00000000-0000-4000-8000-000000000000", "not-a-uuid", "%20"):
        response = client.get(f"/api/sessions/{session_id}", headers=owner.headers)
        assert response.status_code == 404, (session_id, response.text)
        assert response.json()["code"] == "not_found"
        turn = client.post(
            f"/api/sessions/{session_id}/turns", json={"role": "USER", "content": "x"}, headers=owner.headers
        )
        assert turn.status_code == 404, (session_id, turn.text)


def test_invalid_turns_are_refused_with_validation_error(client: TestClient) -> None:
    owner = register(client)
    session = start_session(client, owner.headers, create_agent(client, owner.headers)["id"])
    invalid = [
        {"role": "BOT", "content": "x"},
        {"role": "USER"},
        {"role": "USER", "content": 42},
        {"role": "USER", "content": "x", "inputTokens": -1},
        {"role": "USER", "content": "x", "latencyMs": 2**31},
        {"role": "USER", "content": "NUL \u0000 inside"},
        {"role": "USER", "content": {"deep": ["NUL \u0000"]}},
        {"role": "USER", "content": "x", "metadata": ["not", "an", "object"]},
    ]
    for body in invalid:
        response = client.post(f"/api/sessions/{session['id']}/turns", json=body, headers=owner.headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == "validation_error"
    nan = client.post(
        f"/api/sessions/{session['id']}/turns",
        content=b'{"role": "USER", "content": {"score": NaN}}',
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    assert nan.status_code in (400, 422), nan.text
    assert client.get(f"/api/sessions/{session['id']}", headers=owner.headers).json()["turns"] == []


def test_invalid_sessions_and_ends_are_refused_with_validation_error(client: TestClient) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    for body in (
        {},
        {"agentId": agent["id"], "tags": "support"},
        {"agentId": agent["id"], "metadata": "text"},
        {"agentId": agent["id"], "externalId": "x" * 257},
    ):
        response = client.post("/api/sessions", json=body, headers=owner.headers)
        assert response.status_code == 422, (body, response.text)
    session = start_session(client, owner.headers, agent["id"])
    for body in ({"status": "ACTIVE"}, {"status": "DONE"}, {"totalTokens": -5}):
        response = client.post(f"/api/sessions/{session['id']}/end", json=body, headers=owner.headers)
        assert response.status_code == 422, (body, response.text)
    assert client.get(f"/api/sessions/{session['id']}", headers=owner.headers).json()["status"] == "ACTIVE"


def test_a_session_can_still_be_started_for_an_archived_agent(client: TestClient) -> None:
    """Archiving in the dashboard must not make a deployed agent lose its conversations."""
    owner = register(client)
    agent = create_agent(client, owner.headers)
    assert client.delete(f"/api/agents/{agent['id']}", headers=owner.headers).status_code == 200
    session = start_session(client, owner.headers, agent["id"])
    add_turn(client, owner.headers, session["id"], "still recorded")
