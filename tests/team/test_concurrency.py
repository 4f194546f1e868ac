"""The org keeps an OWNER when two membership changes race, on SQLite and on PostgreSQL.

The first test makes the interleaving certain: one change holds its transaction open while the
other starts. The second races real requests through two server processes of one deployment.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from provenant.auth.principal import Principal
from provenant.auth.roles import Role
from provenant.db import Database
from provenant.errors import ProvenantError
from provenant.team import members
from tests.factories import Account, Client, invite_and_accept, login, register
from tests.servers import LiveServer

pytestmark = pytest.mark.both_databases  # row locks on PostgreSQL, the write lock on SQLite


def _principal(client: TestClient, account: Account) -> Principal:
    """Who ``account`` is, as the server authenticates them (read through the real /me)."""
    me = client.get("/api/auth/me", headers=account.headers).json()
    return Principal(org_id=me["orgId"], user_id=me["id"], role=Role(me["role"]), name=me["name"])


def _owners(client: Client, account: Account) -> list[str]:
    listed = client.get("/api/org/members", headers=account.headers).json()
    return [m["id"] for m in listed if m["role"] == "OWNER"]


@pytest.mark.parametrize(
    ("scenario", "refusal"),
    [("each demotes the other", "forbidden"), ("each steps down", "last_owner")],
)
def test_two_owners_changing_roles_at_the_same_moment_leave_one_owner(
    client: TestClient, database: Database, scenario: str, refusal: str
) -> None:
    first = register(client)
    second = invite_and_accept(client, first, "OWNER")
    callers = (_principal(client, first), _principal(client, second))
    targets = (second, first) if scenario == "each demotes the other" else (first, second)
    first_changed = threading.Event()
    outcome: dict[str, object] = {}

    def change(index: int) -> None:
        caller, target = callers[index], targets[index]
        if index == 1:
            first_changed.wait(timeout=10)
        try:
            with database.transaction() as session:
                members.change_role(session, caller, user_id=target.user_id, role=Role.ADMIN)
                if index == 0:
                    first_changed.set()
                    time.sleep(0.5)  # hold the transaction open while the other change starts
                    outcome["committing 0"] = time.monotonic()  # the lock is held until just after this
            outcome[f"result {index}"] = "changed"
        except ProvenantError as error:
            outcome[f"result {index}"] = error.code
        outcome[f"done {index}"] = time.monotonic()

    threads = [threading.Thread(target=change, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert (outcome["result 0"], outcome["result 1"]) == ("changed", refusal)
    # It waited for the first: it finished after the first began to commit. (Not "after the first finished":
    # the first thread may be descheduled between its commit and reading the clock, and was, in a CI run.)
    assert outcome["done 1"] >= outcome["committing 0"]  # type: ignore[operator]
    assert len(_owners(client, first if scenario == "each demotes the other" else second)) == 1


def test_owners_demoting_each_other_through_two_server_processes_leave_one_owner(
    client: TestClient, live_server: LiveServer
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as remote, ThreadPoolExecutor(2) as pool:
        for _ in range(4):
            first = register(client)
            second = invite_and_accept(client, first, "OWNER")
            second_remote = login(remote, second.email)  # the other process signs its own tokens
            start = threading.Barrier(2)

            def demote(http: Client, caller: Account, target: Account, gate: threading.Barrier = start) -> int:
                gate.wait()
                path = f"/api/org/members/{target.user_id}/role"
                return http.patch(path, json={"role": "ADMIN"}, headers=caller.headers).status_code

            here = pool.submit(demote, client, first, second)
            there = pool.submit(demote, remote, second_remote, first)

            assert sorted([here.result(), there.result()]) == [200, 403]
            assert len(_owners(client, first if here.result() == 200 else second)) == 1
