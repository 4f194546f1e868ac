"""An `ingest` key does what an instrumented agent needs and reads back only the sessions it created."""

from fastapi.testclient import TestClient

from tests.factories import Account, bearer, create_agent, register
from tests.sessions.factories import add_turn, start_session


def _key(client: TestClient, owner: Account, access: str) -> dict[str, str]:
    response = client.post("/api/org/keys", json={"name": f"{access} key", "access": access}, headers=owner.headers)
    assert response.status_code == 201, response.text
    assert response.json()["access"] == access
    return bearer(response.json()["key"])


def _listed(client: TestClient, headers: dict[str, str], **params: str) -> list[str]:
    response = client.get("/api/sessions", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [session["id"] for session in response.json()]


def test_an_ingest_key_creates_fills_and_ends_its_sessions(client: TestClient) -> None:
    owner = register(client)
    ingest = _key(client, owner, "ingest")
    agent = client.post("/api/agents/get-or-create", json={"name": "Support bot"}, headers=ingest)
    assert agent.status_code == 201, agent.text
    session = start_session(client, ingest, agent.json()["id"])
    add_turn(client, ingest, session["id"], "single")
    batch = [{"role": "USER", "content": "batched", "clientId": "b-1"}]
    assert client.post(f"/api/sessions/{session['id']}/turns", json=batch, headers=ingest).status_code == 201
    assert client.post(f"/api/sessions/{session['id']}/end", json={}, headers=ingest).status_code == 200

    read_back = client.get(f"/api/sessions/{session['id']}", headers=ingest)
    assert read_back.status_code == 200
    assert [turn["content"] for turn in read_back.json()["turns"]] == ["single", "batched"]
    assert client.delete(f"/api/sessions/{session['id']}", headers=ingest).status_code == 403


def test_an_ingest_key_lists_and_reads_only_the_sessions_it_created(client: TestClient) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    ingest, other_ingest = _key(client, owner, "ingest"), _key(client, owner, "ingest")
    mine = [start_session(client, ingest, agent["id"])["id"] for _ in range(3)]
    add_turn(client, ingest, mine[0], "needle")
    by_owner = start_session(client, owner.headers, agent["id"])["id"]
    add_turn(client, owner.headers, by_owner, "needle")
    by_other_key = start_session(client, other_ingest, agent["id"])["id"]

    assert _listed(client, ingest) == mine[::-1]
    assert _listed(client, ingest, q="needle") == [mine[0]]
    assert _listed(client, ingest, agentId=agent["id"], status="ACTIVE") == mine[::-1]
    assert _listed(client, other_ingest) == [by_other_key]
    for foreign in (by_owner, by_other_key):
        response = client.get(f"/api/sessions/{foreign}", headers=ingest)
        assert response.status_code == 404
        assert response.json() == {"error": "Session not found.", "code": "not_found"}
    # A full or read key, and the owner, read the whole org.
    everything = {*mine, by_owner, by_other_key}
    assert set(_listed(client, owner.headers)) == everything
    assert set(_listed(client, _key(client, owner, "read"))) == everything


def test_an_ingest_keys_pages_hold_only_its_sessions(client: TestClient) -> None:
    owner = register(client)
    agent = create_agent(client, owner.headers)
    ingest = _key(client, owner, "ingest")
    mine = []
    for _ in range(5):
        mine.append(start_session(client, ingest, agent["id"])["id"])
        start_session(client, owner.headers, agent["id"])

    first = client.get("/api/sessions", params={"limit": 3}, headers=ingest)
    assert [session["id"] for session in first.json()] == mine[::-1][:3]
    next_url = first.headers["Link"].split(">")[0].lstrip("<")
    second = client.get(next_url, headers=ingest)
    assert [session["id"] for session in second.json()] == mine[::-1][3:]
    assert "Link" not in second.headers
