"""Background mode across processes: a server that dies and comes back, a program that exits without close(),
and children made by fork."""

import logging
import os
import secrets
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from provenant_sdk import ProvenantClient

from accounts import Account, new_account
from servers import FlakyProxy, ServerProcess


def contents(client: ProvenantClient, session_id: str) -> list[str]:
    return [turn["content"] for turn in client.get_session(session_id)["turns"]]


def run_script(source: str, account: Account, base_url: str, *args: str) -> None:
    env = dict(os.environ, PROVENANT_URL=base_url, PROVENANT_API_KEY=account.api_key)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source), *args], env=env, capture_output=True, timeout=120
    )
    assert result.returncode == 0, result.stderr.decode()


def test_a_server_killed_mid_run_and_restarted_gets_everything_once_in_order(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="provenant_sdk")
    server = ServerProcess(tmp_path, secrets.token_hex(32))
    server.start()
    try:
        account = new_account(server.url)
        with ProvenantClient(base_url=server.url, api_key=account.api_key) as client:
            agent_id = client.get_or_create_agent("Crash survivor")
            logged = 1500

            def agent() -> None:
                with client.session(agent_id) as session:
                    sessions.append(session)
                    for i in range(logged):
                        session.log_turn("USER", f"turn {i}")
                        time.sleep(0.002)

            sessions: list = []
            thread = threading.Thread(target=agent)
            thread.start()
            time.sleep(1.0)  # batches are flowing
            server.kill()
            time.sleep(1.0)  # turns pile up in the queue meanwhile
            server.start()
            thread.join()
            assert client.flush(timeout=60)
            assert client.dropped_turns == 0
            stored = client.get_session(sessions[0].id)
        assert [turn["content"] for turn in stored["turns"]] == [f"turn {i}" for i in range(logged)]
        assert stored["status"] == "COMPLETED"
        assert "sending queued turns again" in caplog.text  # the sender did meet the dead server
    finally:
        server.stop()


def test_turns_logged_by_a_program_that_never_closes_arrive(
    account: Account, client: ProvenantClient
) -> None:
    agent_id = client.get_or_create_agent("Exits early")
    kept = client.create_session(agent_id)
    dropped = client.create_session(agent_id)
    script = """
        import sys
        from provenant_sdk import ProvenantClient

        kept_id, dropped_id = sys.argv[1:3]
        client = ProvenantClient()  # kept until exit


        def short_lived():
            other = ProvenantClient()  # garbage as soon as this returns
            for i in range(50):
                other.log_turn(dropped_id, "USER", f"turn {i}")


        for i in range(200):
            client.log_turn(kept_id, "USER", f"turn {i}")
        short_lived()
        # no flush(), no close(): interpreter exit sends what is queued
    """
    run_script(script, account, account.base_url, kept["id"], dropped["id"])
    assert contents(client, kept["id"]) == [f"turn {i}" for i in range(200)]
    assert contents(client, dropped["id"]) == [f"turn {i}" for i in range(50)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is a POSIX call")
def test_forked_children_send_their_own_turns_and_never_the_parents(
    proxy: FlakyProxy, account: Account, client: ProvenantClient
) -> None:
    agent_id = client.get_or_create_agent("Forks")
    parent, child, forked = (client.create_session(agent_id)["id"] for _ in range(3))
    script = """
        import multiprocessing, os, sys
        from provenant_sdk import ProvenantClient

        parent_id, child_id, forked_id = sys.argv[1:4]
        client = ProvenantClient()
        for i in range(20):
            client.log_turn(parent_id, "USER", f"parent {i}")  # still queued when the children are made


        def child():  # multiprocessing ends it with os._exit: its own exit hook sends the turns
            for i in range(10):
                client.log_turn(child_id, "USER", f"child {i}")


        process = multiprocessing.get_context("fork").Process(target=child)
        process.start()
        process.join()
        assert process.exitcode == 0, process.exitcode

        pid = os.fork()
        if pid == 0:
            for i in range(5):
                client.log_turn(forked_id, "USER", f"forked {i}")
            sys.exit(0)  # atexit sends them
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        client.close()
    """
    run_script(script, account, proxy.url, parent, child, forked)

    assert contents(client, parent) == [f"parent {i}" for i in range(20)]
    assert contents(client, child) == [f"child {i}" for i in range(10)]
    assert contents(client, forked) == [f"forked {i}" for i in range(5)]
    # Each turn left in exactly one request: no process sent another's queue (the server would have
    # deduplicated a resent clientId, so only the requests can show it).
    posted = Counter(turn["clientId"] for hit in proxy.hits_to("POST", "/turns") for turn in hit.json())
    assert len(posted) == 35
    assert set(posted.values()) == {1}
