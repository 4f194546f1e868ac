"""Sessions and turns made the way SDKs make them."""

from typing import Any

from tests.factories import Client


def start_session(client: Client, headers: dict[str, str], agent_id: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/sessions", json={"agentId": agent_id, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def add_turn(
    client: Client,
    headers: dict[str, str],
    session_id: str,
    content: Any,
    *,
    role: str = "USER",
    **fields: Any,
) -> dict[str, Any]:
    body = {"role": role, "content": content, **fields}
    response = client.post(f"/api/sessions/{session_id}/turns", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())
