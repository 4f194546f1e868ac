"""Background mode against the real server: log_turn returns at once; a thread delivers each turn in order."""

import logging
import threading
import time

import pytest

from provenant_sdk import AsyncProvenantClient, NotFoundError, ProvenantClient

from accounts import Account
from servers import FlakyProxy, free_port


def contents(client: ProvenantClient, session_id: str) -> list[str]:
    return [turn["content"] for turn in client.get_session(session_id)["turns"]]


def through(proxy: FlakyProxy, account: Account, **options: object) -> ProvenantClient:
    return ProvenantClient(base_url=proxy.url, api_key=account.api_key, **options)  # type: ignore[arg-type]


@pytest.fixture
def agent_id(client: ProvenantClient) -> str:
    return client.get_or_create_agent("Background Agent")


def test_a_session_block_delivers_every_turn_in_order_in_batches(
    proxy: FlakyProxy, account: Account, client: ProvenantClient, agent_id: str
) -> None:
    with through(proxy, account) as background:
        with background.session(agent_id, external_id="bg-1") as session:
            for i in range(250):
                session.log_turn("USER" if i % 2 == 0 else "ASSISTANT", f"turn {i}", input_tokens=i)
        assert background.flush(timeout=30)
        assert background.dropped_turns == 0

    stored = client.get_session(session.id)
    assert [turn["content"] for turn in stored["turns"]] == [f"turn {i}" for i in range(250)]
    assert [turn["inputTokens"] for turn in stored["turns"]] == list(range(250))
    assert stored["status"] == "COMPLETED"
    assert stored["externalId"] == "bg-1"
    client_ids = [turn["clientId"] for turn in stored["turns"]]
    assert len(set(client_ids)) == 250
    assert all(len(client_id) == 32 and int(client_id, 16) >= 0 for client_id in client_ids)

    batches = proxy.hits_to("POST", "/turns")
    assert 1 <= len(batches) <= 5  # 250 turns in a handful of requests, not 250
    assert all(isinstance(batch.json(), list) for batch in batches)


def test_log_turn_returns_at_once_while_the_server_is_down(account: Account) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with ProvenantClient(base_url=nowhere, api_key=account.api_key) as client:
        started = time.perf_counter()
        with client.session("any-agent") as session:
            for i in range(1000):
                session.log_turn("USER", f"turn {i}")
        elapsed = time.perf_counter() - started
        assert elapsed < 0.5, elapsed  # 1000 turns, a session and its end: no network wait anywhere
        client.close(timeout=0.2)
    assert client.dropped_turns == 1000  # nobody answered before close gave up: every turn is accounted for


def test_client_level_log_turn_with_a_session_id(client: ProvenantClient, agent_id: str) -> None:
    session = client.create_session(agent_id)
    for i in range(5):
        client.log_turn(session["id"], "USER", {"text": f"part {i}"}, metadata={"i": i})
    assert client.flush(timeout=30)
    stored = client.get_session(session["id"])["turns"]
    assert [turn["content"] for turn in stored] == [{"text": f"part {i}"} for i in range(5)]
    assert [turn["metadata"] for turn in stored] == [{"i": i} for i in range(5)]


def test_what_is_logged_is_what_is_sent(client: ProvenantClient, agent_id: str) -> None:
    session = client.create_session(agent_id)
    content = {"text": "before"}
    client.log_turn(session["id"], "USER", content)
    content["text"] = "changed after logging"
    assert client.flush(timeout=30)
    assert contents(client, session["id"]) == [{"text": "before"}]


def test_the_server_coming_up_late_gets_everything(server_url: str, account: Account, agent_id: str) -> None:
    proxy = FlakyProxy(server_url)
    proxy.bind()  # refuses connections until listen()
    try:
        with ProvenantClient(base_url=proxy.url, api_key=account.api_key) as client:
            with client.session(agent_id) as session:
                for i in range(30):
                    session.log_turn("USER", f"early {i}")
                time.sleep(1.2)  # the sender has tried and been refused
                proxy.listen()
                for i in range(30):
                    session.log_turn("USER", f"late {i}")
            assert client.flush(timeout=30)
            expected = [f"early {i}" for i in range(30)] + [f"late {i}" for i in range(30)]
            assert contents(client, session.id) == expected
            assert client.get_session(session.id)["status"] == "COMPLETED"
    finally:
        proxy.stop()


def test_503_429_and_lost_answers_are_retried_without_duplicates(
    proxy: FlakyProxy, account: Account, client: ProvenantClient, agent_id: str
) -> None:
    session = client.create_session(agent_id)
    proxy.only = "/turns"
    proxy.script = ["503", "429:1", "lose", "drop", "status:502"]
    with through(proxy, account) as background:
        for i in range(40):
            background.log_turn(session["id"], "USER", f"turn {i}")
        assert background.flush(timeout=60)
        assert background.dropped_turns == 0
    assert contents(client, session["id"]) == [f"turn {i}" for i in range(40)]
    assert len(proxy.hits_to("POST", "/turns")) >= 6  # the five scripted failures, then success


def test_a_500_is_tried_five_more_times_then_the_batch_is_dropped(
    proxy: FlakyProxy,
    account: Account,
    client: ProvenantClient,
    agent_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    session = client.create_session(agent_id)
    proxy.only = "/turns"
    proxy.script = ["status:500:0"] * 6  # Retry-After: 0, so the test need not sit out the backoff
    with through(proxy, account) as background:
        background.log_turn(session["id"], "USER", "lost to a broken server")
        assert background.flush(timeout=30)
        assert background.dropped_turns == 1
        background.log_turn(session["id"], "USER", "the next one goes through")
        assert background.flush(timeout=30)
    assert contents(client, session["id"]) == ["the next one goes through"]
    assert len(proxy.hits_to("POST", "/turns")) == 7  # the batch, five more tries, the next batch
    assert any(r.levelno == logging.WARNING and "500" in r.getMessage() for r in caplog.records)


def test_refused_turns_are_counted_and_warned_about_once(
    client: ProvenantClient, agent_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    session = client.create_session(agent_id)
    client.end_session(session["id"])
    for _ in range(3):
        client.log_turn(session["id"], "USER", "after the end")
        assert client.flush(timeout=30)
    assert client.dropped_turns == 3
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "session_ended" in r.getMessage()
    ]
    assert len(warnings) == 1


@pytest.mark.parametrize("refusal", ["ended", "deleted"])
def test_a_refused_session_takes_no_more_turns_and_nothing_more_is_sent(
    proxy: FlakyProxy, account: Account, client: ProvenantClient, agent_id: str, refusal: str
) -> None:
    """409 ``session_ended`` or 404: the session itself is refused, so its later turns are dropped unsent,
    as the TypeScript SDK's sender does (test/background-server.test.ts)."""
    session = client.create_session(agent_id)
    if refusal == "ended":
        client.end_session(session["id"])
    else:
        client.delete_session(session["id"])
    with through(proxy, account) as background:
        for i in range(3):
            background.log_turn(session["id"], "USER", f"after the {refusal} session {i}")
            assert background.flush(timeout=30)
        assert background.dropped_turns == 3
    assert len(proxy.hits_to("POST", "/turns")) == 1


def test_an_item_the_server_refuses_is_dropped_and_the_rest_stored(
    client: ProvenantClient, agent_id: str
) -> None:
    session = client.create_session(agent_id)
    client.log_turn(session["id"], "USER", "one")
    client.log_turn(session["id"], "USER", "two", input_tokens=-5)  # the server's rule, not the SDK's
    client.log_turn(session["id"], "USER", "three")
    assert client.flush(timeout=30)
    assert contents(client, session["id"]) == ["one", "three"]
    assert client.dropped_turns == 1


def test_turns_that_cannot_be_sent_are_dropped_at_once_without_raising(client: ProvenantClient) -> None:
    client.log_turn("some-session", "BOT", "not a role")  # type: ignore[arg-type]
    client.log_turn("some-session", "USER", {"when": object()})  # not JSON
    client.log_turn("some-session", "USER", {"score": float("nan")})  # not JSON either
    assert client.dropped_turns == 3


def test_a_session_that_cannot_be_created_never_raises_into_the_block(
    client: ProvenantClient, caplog: pytest.LogCaptureFixture
) -> None:
    with client.session("00000000-0000-0000-0000-000000000000") as session:
        session.log_turn("USER", "to an agent that does not exist")
        session.log_turn("ASSISTANT", "still fine")
    assert client.flush(timeout=30)
    assert client.dropped_turns == 2
    assert "could not be created" in caplog.text
    with pytest.raises(NotFoundError):
        session["id"]  # reading it says why, as create_session would


def test_the_block_ends_failed_in_the_background_when_it_raises(
    client: ProvenantClient, agent_id: str
) -> None:
    with pytest.raises(RuntimeError, match="tool crashed"), client.session(agent_id) as session:
        session.log_turn("USER", "hi")
        raise RuntimeError("tool crashed")
    assert client.flush(timeout=30)
    stored = client.get_session(session.id)
    assert stored["status"] == "FAILED"
    assert [turn["content"] for turn in stored["turns"]] == ["hi"]


def test_end_with_totals_and_turns_after_the_end_are_dropped(client: ProvenantClient, agent_id: str) -> None:
    with client.session(agent_id) as session:
        session.log_turn("USER", "hi")
        session.end(total_tokens=42, total_latency_ms=7)
        session.log_turn("USER", "too late")
    assert client.flush(timeout=30)
    stored = client.get_session(session.id)
    assert (stored["status"], stored["totalTokens"], stored["totalLatencyMs"]) == ("COMPLETED", 42, 7)
    assert [turn["content"] for turn in stored["turns"]] == ["hi"]
    assert client.dropped_turns == 1


def test_sessions_of_many_threads_each_keep_their_order(client: ProvenantClient, agent_id: str) -> None:
    sessions = []

    def agent(n: int) -> None:
        with client.session(agent_id, external_id=f"thread-{n}") as session:
            sessions.append(session)
            for i in range(60):
                session.log_turn("USER", f"{n}:{i}")

    threads = [threading.Thread(target=agent, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.flush(timeout=60)
    for session in sessions:
        n = session["externalId"].split("-")[1]
        assert contents(client, session.id) == [f"{n}:{i}" for i in range(60)]


def test_close_sends_what_is_queued(account: Account, client: ProvenantClient, agent_id: str) -> None:
    session = client.create_session(agent_id)
    background = ProvenantClient(base_url=account.base_url, api_key=account.api_key)
    for i in range(10):
        background.log_turn(session["id"], "USER", f"turn {i}")
    background.close()  # no flush() first
    assert contents(client, session["id"]) == [f"turn {i}" for i in range(10)]
    background.log_turn(session["id"], "USER", "after close")
    assert background.dropped_turns == 1


def test_the_queue_is_bounded_and_warns_once(
    server_url: str,
    account: Account,
    client: ProvenantClient,
    agent_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    session = client.create_session(agent_id)
    proxy = FlakyProxy(server_url)
    proxy.bind()  # the server is away: nothing leaves the queue
    try:
        with ProvenantClient(base_url=proxy.url, api_key=account.api_key, max_queued_turns=50) as background:
            for i in range(120):
                background.log_turn(session["id"], "USER", f"turn {i}")
            assert background.dropped_turns == 70
            full = [r for r in caplog.records if r.levelno == logging.WARNING and "queue" in r.getMessage()]
            assert len(full) == 1
            proxy.listen()
            assert background.flush(timeout=30)
        assert contents(client, session["id"]) == [f"turn {i}" for i in range(50)]  # the first 50, in order
    finally:
        proxy.stop()


@pytest.mark.anyio
async def test_the_async_client_logs_in_the_background_too(account: Account, client: ProvenantClient) -> None:
    agent_id = client.get_or_create_agent("Async Background")
    async with AsyncProvenantClient(base_url=account.base_url, api_key=account.api_key) as background:
        async with background.session(agent_id) as session:
            for i in range(20):
                session.log_turn("USER", f"turn {i}")
        assert await background.flush(timeout=30)
        session_id = session.id
    stored = client.get_session(session_id)
    assert [turn["content"] for turn in stored["turns"]] == [f"turn {i}" for i in range(20)]
    assert stored["status"] == "COMPLETED"
