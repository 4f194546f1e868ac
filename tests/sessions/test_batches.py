"""POST /api/sessions/{id}/turns with an array (the contract's "Turns in batches"): order kept, all or
nothing, the bad item named by its index, and clientId idempotency."""

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.factories import Account, bearer, create_agent, create_key, register
from tests.sessions.factories import add_turn, start_session

# All or nothing is each database's transaction; clientId idempotency each database's IN query and unique index.
pytestmark = pytest.mark.both_databases

MIB = 1024 * 1024


def _session(client: TestClient, owner: Account) -> str:
    return str(start_session(client, owner.headers, create_agent(client, owner.headers)["id"])["id"])


def _post(client: TestClient, owner: Account, session_id: str, body: Any) -> httpx.Response:
    response: httpx.Response = client.post(f"/api/sessions/{session_id}/turns", json=body, headers=owner.headers)
    return response


def _stored(client: TestClient, owner: Account, session_id: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/sessions/{session_id}", headers=owner.headers).json()["turns"])


def _turns(*contents: Any, **fields: Any) -> list[dict[str, Any]]:
    return [{"role": "USER", "content": content, **fields} for content in contents]


def test_a_batch_is_stored_in_its_order_and_answered_with_the_stored_turns(client: TestClient) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    batch: list[dict[str, Any]] = [
        {"role": "SYSTEM", "content": "be brief"},
        {"role": "USER", "content": {"text": "where is my order?"}, "inputTokens": 7},
        {"role": "ASSISTANT", "content": ["it ships", "today"], "outputTokens": 5, "latencyMs": 840},
        {"role": "TOOL", "content": "lookup", "toolCalls": [{"name": "lookup_order"}], "metadata": {"k": 1}},
    ]
    response = _post(client, owner, session_id, batch)

    assert response.status_code == 201, response.text
    answered = response.json()
    assert [(turn["role"], turn["content"]) for turn in answered] == [(t["role"], t["content"]) for t in batch]
    assert [turn["clientId"] for turn in answered] == [None] * 4
    assert answered[3]["toolCalls"] == [{"name": "lookup_order"}] and answered[3]["metadata"] == {"k": 1}
    assert _stored(client, owner, session_id) == answered


def test_batches_and_single_turns_interleave_in_the_order_they_were_accepted(client: TestClient) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    add_turn(client, owner.headers, session_id, "one")
    assert _post(client, owner, session_id, _turns("two", "three")).status_code == 201
    add_turn(client, owner.headers, session_id, "four")
    assert _post(client, owner, session_id, _turns("five")).status_code == 201
    assert [turn["content"] for turn in _stored(client, owner, session_id)] == ["one", "two", "three", "four", "five"]


def test_a_single_turn_is_still_answered_as_one_object(client: TestClient) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    response = _post(client, owner, session_id, {"role": "USER", "content": "alone"})
    assert response.status_code == 201
    assert response.json()["content"] == "alone" and response.json()["clientId"] is None


@pytest.mark.parametrize(
    ("bad_item", "field"),
    [
        ({"role": "BOT", "content": "x"}, "[3].role"),
        ({"content": "x"}, "[3].role"),
        ({"role": "USER"}, "[3].content"),
        ({"role": "USER", "content": "x", "inputTokens": -1}, "[3].inputTokens"),
        ({"role": "USER", "content": "x", "clientId": ""}, "[3].clientId"),
        ({"role": "USER", "content": "x", "clientId": "c" * 65}, "[3].clientId"),
        ("not a turn", "[3]"),
    ],
)
def test_one_invalid_item_refuses_the_whole_batch_naming_its_index(
    client: TestClient, bad_item: Any, field: str
) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    batch = [*_turns("a", "b", "c"), bad_item, *_turns("e")]
    response = _post(client, owner, session_id, batch)

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in {detail["field"] for detail in body["details"]}, body
    assert _stored(client, owner, session_id) == []


def test_content_of_the_wrong_type_is_named_by_index_and_field(client: TestClient) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    response = _post(client, owner, session_id, [*_turns("a"), {"role": "USER", "content": 42}])
    assert response.status_code == 422
    fields = {detail["field"] for detail in response.json()["details"]}
    assert fields and all(field.startswith("[1].content") for field in fields), fields


def test_a_nul_character_in_a_batch_is_named_by_index(client: TestClient) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    response = _post(client, owner, session_id, [*_turns("a", "b"), {"role": "USER", "content": "x\u0000y"}])
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "[2].content"
    assert _stored(client, owner, session_id) == []


def test_a_single_turn_names_its_fields_without_an_index(client: TestClient) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    response = _post(client, owner, session_id, {"role": "BOT", "content": "x"})
    assert response.status_code == 422
    assert [detail["field"] for detail in response.json()["details"]] == ["role"]


def test_a_batch_holds_1_to_500_turns(client: TestClient) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    for batch in ([], _turns(*(f"turn {n}" for n in range(501)))):
        response = _post(client, owner, session_id, batch)
        assert response.status_code == 422, len(batch)
        assert response.json()["details"][0]["field"] == "body"
    assert _stored(client, owner, session_id) == []

    full = _post(client, owner, session_id, _turns(*(f"turn {n}" for n in range(500))))
    assert full.status_code == 201
    assert [turn["content"] for turn in _stored(client, owner, session_id)] == [f"turn {n}" for n in range(500)]


def test_a_batch_may_fill_5_mib_and_one_byte_more_is_refused_before_anything_is_stored(client: TestClient) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    item = {"role": "ASSISTANT", "content": ""}
    overhead = len(httpx.Request("POST", "/", json=[item] * 5).content)
    per_item = (5 * MIB - overhead) // 5
    batch = [{**item, "content": "x" * per_item} for _ in range(5)]
    size = len(httpx.Request("POST", "/", json=batch).content)
    batch[0]["content"] += "x" * (5 * MIB - size)
    assert len(httpx.Request("POST", "/", json=batch).content) == 5 * MIB

    assert _post(client, owner, session_id, batch).status_code == 201
    batch[0]["content"] += "x"
    refused = _post(client, owner, session_id, batch)
    assert refused.status_code == 413
    assert refused.json()["code"] == "payload_too_large"
    assert len(_stored(client, owner, session_id)) == 5


def test_a_batch_for_an_ended_session_is_refused_and_stores_nothing(client: TestClient) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    assert _post(client, owner, session_id, _turns("before", clientId=None)).status_code == 201
    assert client.post(f"/api/sessions/{session_id}/end", json={}, headers=owner.headers).status_code == 200

    for batch in (_turns("late", "later"), [{"role": "USER", "content": "late", "clientId": "c-1"}]):
        response = _post(client, owner, session_id, batch)
        assert response.status_code == 409
        assert response.json()["code"] == "session_ended"
    assert [turn["content"] for turn in _stored(client, owner, session_id)] == ["before"]


def test_a_batch_for_another_orgs_or_an_unknown_session_is_not_found(client: TestClient) -> None:
    victim = register(client)
    session_id = _session(client, victim)
    intruder = register(client)
    for target in (session_id, "00000000-0000-4000-8000-000000000000"):
        for headers in (intruder.headers, bearer(create_key(client, intruder))):
            response = client.post(f"/api/sessions/{target}/turns", json=_turns("x"), headers=headers)
            assert response.status_code == 404
            response = client.post(f"/api/sessions/{target}/turns", json=_turns("x", clientId="c"), headers=headers)
            assert response.status_code == 404
    assert _stored(client, victim, session_id) == []


def test_a_resent_batch_is_answered_with_the_held_turns_and_stored_once(client: TestClient) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    batch = [{"role": "USER", "content": f"turn {n}", "clientId": f"c-{n}"} for n in range(3)]
    first = _post(client, owner, session_id, batch)
    again = _post(client, owner, session_id, batch)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert [turn["clientId"] for turn in first.json()] == ["c-0", "c-1", "c-2"]
    assert _stored(client, owner, session_id) == first.json()


def test_held_turns_take_their_place_in_a_batch_and_new_ones_follow_the_stored_ones(client: TestClient) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    first = _post(client, owner, session_id, [{"role": "USER", "content": "a", "clientId": "a"}]).json()
    batch = [
        {"role": "USER", "content": "b", "clientId": "b"},
        {"role": "USER", "content": "a, changed on the resend", "clientId": "a"},
        {"role": "USER", "content": "no id"},
    ]
    answered = _post(client, owner, session_id, batch).json()

    assert answered[1] == first[0]  # the held turn, as it was stored
    assert [turn["content"] for turn in answered] == ["b", "a", "no id"]
    assert [turn["content"] for turn in _stored(client, owner, session_id)] == ["a", "b", "no id"]


def test_a_client_id_repeated_within_a_batch_is_stored_once_and_answered_twice(client: TestClient) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    batch = [
        {"role": "USER", "content": "first", "clientId": "same"},
        {"role": "USER", "content": "between"},
        {"role": "USER", "content": "second", "clientId": "same"},
    ]
    answered = _post(client, owner, session_id, batch).json()

    assert answered[0] == answered[2] and answered[0]["content"] == "first"
    assert [turn["content"] for turn in _stored(client, owner, session_id)] == ["first", "between"]


def test_a_single_turn_with_a_client_id_is_idempotent_too(client: TestClient) -> None:
    owner = register(client)
    session_id = _session(client, owner)
    body = {"role": "USER", "content": "once", "clientId": "single-1"}
    first, again = _post(client, owner, session_id, body), _post(client, owner, session_id, body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and first.json()["clientId"] == "single-1"
    assert len(_stored(client, owner, session_id)) == 1


def test_a_client_id_is_unique_per_session_not_across_sessions(client: TestClient) -> None:
    owner = register(client)
    one, other = _session(client, owner), _session(client, owner)
    batch = [{"role": "USER", "content": "hello", "clientId": "turn-1"}]
    in_one = _post(client, owner, one, batch).json()[0]
    in_other = _post(client, owner, other, batch).json()[0]
    assert in_one["id"] != in_other["id"]
    assert len(_stored(client, owner, one)) == len(_stored(client, owner, other)) == 1
