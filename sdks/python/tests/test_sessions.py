"""Ingesting sessions and turns, and the session() context manager."""

import pytest

from provenant_sdk import ConflictError, ProvenantClient


@pytest.fixture
def agent_id(client: ProvenantClient) -> str:
    return client.get_or_create_agent("Session Agent")


def test_a_session_with_turns(client: ProvenantClient, agent_id: str) -> None:
    session = client.create_session(
        agent_id, external_id="conv-1", user_id="user-7", metadata={"channel": "web"}, tags=["beta"]
    )
    assert session["status"] == "ACTIVE"
    assert session["agentId"] == agent_id
    assert session["externalId"] == "conv-1"
    assert session["userId"] == "user-7"
    assert session["metadata"] == {"channel": "web"}
    assert session["tags"] == ["beta"]

    first = client.add_turn(session["id"], "USER", "Where is my order?", input_tokens=7)
    second = client.add_turn(
        session["id"],
        "ASSISTANT",
        {"text": "Looking it up."},
        tool_calls=[{"name": "lookup_order", "arguments": {"id": 42}}],
        latency_ms=120,
        output_tokens=5,
        metadata={"model": "m-1"},
    )
    assert first["sessionId"] == session["id"]
    assert first["content"] == "Where is my order?"
    assert second["content"] == {"text": "Looking it up."}
    assert second["toolCalls"] == [{"name": "lookup_order", "arguments": {"id": 42}}]
    assert second["latencyMs"] == 120

    ended = client.end_session(session["id"], total_tokens=12, total_latency_ms=120)
    assert ended["status"] == "COMPLETED"
    assert ended["totalTokens"] == 12
    assert ended["endedAt"] is not None

    fetched = client.get_session(session["id"])
    assert [turn["id"] for turn in fetched["turns"]] == [first["id"], second["id"]]
    assert fetched["status"] == "COMPLETED"


def test_a_turn_after_the_end_is_a_conflict(client: ProvenantClient, agent_id: str) -> None:
    session = client.create_session(agent_id)
    client.end_session(session["id"], status="FAILED")
    with pytest.raises(ConflictError) as caught:
        client.add_turn(session["id"], "USER", "too late")
    assert caught.value.code == "session_ended"


def test_session_block_ends_completed(client: ProvenantClient, agent_id: str) -> None:
    with client.session(agent_id, external_id="cm-ok") as session:
        assert session["status"] == "ACTIVE"
        client.add_turn(session["id"], "USER", "hi")
    fetched = client.get_session(session["id"])
    assert fetched["status"] == "COMPLETED"
    assert fetched["externalId"] == "cm-ok"
    assert len(fetched["turns"]) == 1


def test_session_block_that_raises_ends_failed_and_reraises(client: ProvenantClient, agent_id: str) -> None:
    with pytest.raises(RuntimeError, match="tool crashed"), client.session(agent_id) as session:
        client.add_turn(session["id"], "USER", "hi")
        raise RuntimeError("tool crashed")
    assert client.get_session(session["id"])["status"] == "FAILED"


def test_session_block_may_end_the_session_itself(client: ProvenantClient, agent_id: str) -> None:
    with client.session(agent_id) as session:
        client.end_session(session["id"], status="FAILED", total_tokens=3)
    fetched = client.get_session(session["id"])
    assert fetched["status"] == "FAILED"
    assert fetched["totalTokens"] == 3
