"""An `ingest` key does what an instrumented agent needs, and reads and writes only the sessions it
created (or a key it was rolled from or into created)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Account, bearer, create_agent, register
from tests.sessions.factories import add_turn, start_session

pytestmark = pytest.mark.both_databases  # the roll chain is a recursive query, the write an UPDATE per dialect


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


# --- writes: only to the sessions the key may read (issue 24) --------------------------------------

SECRET = "the end user's card number"


def _roll(client: TestClient, owner: Account, key_id: str) -> dict[str, Any]:
    response = client.post(f"/api/org/keys/{key_id}/roll", json={"graceSeconds": 3600}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _new_ingest_key(client: TestClient, owner: Account) -> dict[str, Any]:
    response = client.post("/api/org/keys", json={"name": "agent", "access": "ingest"}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _writes(session_id: str) -> list[tuple[str, str, Any]]:
    """Every write an ingest key may attempt on a session, the resend of a held clientId among them."""
    turns = f"/api/sessions/{session_id}/turns"
    return [
        ("POST", turns, {"role": "USER", "content": "resent", "clientId": "held"}),
        ("POST", turns, [{"role": "USER", "content": "resent", "clientId": "held"}]),
        ("POST", turns, [{"role": "USER", "content": "new"}, {"role": "USER", "content": "x", "clientId": "held"}]),
        ("POST", turns, {"role": "USER", "content": "new"}),
        ("POST", f"/api/sessions/{session_id}/end", {}),
        ("POST", f"/api/sessions/{session_id}/end", {"status": "FAILED", "totalTokens": 1}),
        ("PATCH", f"/api/sessions/{session_id}", {}),
        ("PATCH", f"/api/sessions/{session_id}", {"status": "ACTIVE"}),
        ("PATCH", f"/api/sessions/{session_id}", {"status": "COMPLETED"}),
        ("PATCH", f"/api/sessions/{session_id}", {"endedAt": "2030-01-01T00:00:00Z"}),
    ]


@pytest.mark.parametrize("created_by", ["the owner's JWT", "the owner's full key", "another ingest key"])
@pytest.mark.parametrize("ended", [False, True])
def test_an_ingest_key_neither_writes_to_nor_reads_through_a_session_it_did_not_create(
    client: TestClient, created_by: str, ended: bool
) -> None:
    """Issue 24: resending a held clientId answered the stored turn, content included, and ending or
    PATCHing answered the session (metadata, userId). Every such write is "not found", as a read is,
    and changes nothing."""
    owner = register(client)
    agent = create_agent(client, owner.headers)
    creator = {
        "the owner's JWT": owner.headers,
        "the owner's full key": _key(client, owner, "full"),
        "another ingest key": _key(client, owner, "ingest"),
    }[created_by]
    foreign = start_session(client, creator, agent["id"], userId="end-user-7", metadata={"plan": SECRET})
    add_turn(client, creator, foreign["id"], SECRET, clientId="held")
    if ended:
        assert client.post(f"/api/sessions/{foreign['id']}/end", json={}, headers=creator).status_code == 200
    before = client.get(f"/api/sessions/{foreign['id']}", headers=owner.headers).json()
    ingest = _key(client, owner, "ingest")

    for method, url, body in _writes(foreign["id"]):
        response = client.request(method, url, json=body, headers=ingest)
        assert (response.status_code, response.json()) == (404, {"error": "Session not found.", "code": "not_found"}), (
            method,
            url,
            body,
            response.text,
        )

    assert client.get(f"/api/sessions/{foreign['id']}", headers=owner.headers).json() == before


def test_a_rolled_ingest_key_carries_on_the_sessions_of_the_keys_it_was_rolled_from(client: TestClient) -> None:
    """A deployment rotates its ingest key while conversations are open: the new key adds to, resends
    to, reads and ends the sessions the old one started, and the old one, in its grace period, those
    the new one started. Another key of the same person still sees none of them."""
    owner = register(client)
    agent = create_agent(client, owner.headers)
    first = _new_ingest_key(client, owner)
    by_first = start_session(client, bearer(first["key"]), agent["id"])["id"]
    held = add_turn(client, bearer(first["key"]), by_first, "hello", clientId="held")
    second = _roll(client, owner, first["id"])
    third = _roll(client, owner, second["id"])
    by_third = start_session(client, bearer(third["key"]), agent["id"])["id"]
    unrelated = bearer(_new_ingest_key(client, owner)["key"])

    newest, oldest = bearer(third["key"]), bearer(first["key"])  # the first is in its grace period
    resent = client.post(
        f"/api/sessions/{by_first}/turns", json={"role": "USER", "content": "x", "clientId": "held"}, headers=newest
    )
    assert (resent.status_code, resent.json()["id"]) == (201, held["id"])
    batch = [{"role": "ASSISTANT", "content": "carried on", "clientId": "c-2"}]
    assert client.post(f"/api/sessions/{by_first}/turns", json=batch, headers=newest).status_code == 201
    add_turn(client, oldest, by_third, "from the old key")
    assert {s["id"] for s in client.get("/api/sessions", headers=newest).json()} == {by_first, by_third}
    assert {s["id"] for s in client.get("/api/sessions", headers=oldest).json()} == {by_first, by_third}
    assert [t["content"] for t in client.get(f"/api/sessions/{by_first}", headers=newest).json()["turns"]] == [
        "hello",
        "carried on",
    ]
    ended = client.post(f"/api/sessions/{by_first}/end", json={}, headers=newest)
    assert (ended.status_code, ended.json()["status"]) == (200, "COMPLETED")
    assert client.patch(f"/api/sessions/{by_third}", json={"status": "FAILED"}, headers=oldest).status_code == 200

    for session_id in (by_first, by_third):
        assert client.get(f"/api/sessions/{session_id}", headers=unrelated).status_code == 404
        for method, url, body in _writes(session_id):
            assert client.request(method, url, json=body, headers=unrelated).status_code == 404, (method, url)
    assert client.get("/api/sessions", headers=unrelated).json() == []


def test_revoking_the_key_a_successor_was_rolled_from_leaves_it_the_sessions(client: TestClient) -> None:
    """Revoking the old key of a roll ends its use, not its sessions: its successor carries them on.
    The chain is walked through revoked keys too."""
    owner = register(client)
    agent = create_agent(client, owner.headers)
    first = _new_ingest_key(client, owner)
    by_first = start_session(client, bearer(first["key"]), agent["id"])["id"]
    second = _roll(client, owner, first["id"])
    assert client.delete(f"/api/org/keys/{first['id']}", headers=owner.headers).status_code == 200

    add_turn(client, bearer(second["key"]), by_first, "still carried on")
    assert client.get(f"/api/sessions/{by_first}", headers=bearer(second["key"])).status_code == 200
