"""Key use and rolling across real `provenant serve` processes sharing one database, over HTTP: what each
process counts adds up, what a process counted is written when it stops or, with no request after, by
its timer (every PROVENANT_KEY_USE_WRITE_INTERVAL seconds); a rolled key's grace period ends in every
process."""

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from provenant.app import create_app
from provenant.config import Settings
from tests.factories import Account, assert_unauthorized, bearer, register
from tests.servers import serve

pytestmark = pytest.mark.both_databases  # use counts are an upsert written per dialect, added up across processes

KEYS = "/api/org/keys"
# Machines behind one load balancer share the signing secret, so a JWT works on each.
SHARED = {"PROVENANT_JWT_SECRET": secrets.token_hex(32)}
# Short, so the timer is waited for seconds instead of the default 30; long enough that six uses in a row
# and the read after them fit inside it, on a busy machine too.
WRITE_INTERVAL = 3


def _usage_today(http: httpx.Client, account: Account, key_id: str) -> int:
    response = http.get(f"{KEYS}/{key_id}/usage", params={"days": 1}, headers=account.headers)
    assert response.status_code == 200, response.text
    return int(response.json()[0]["requests"])


def _use(url: str, key: str, times: int) -> None:
    with httpx.Client(base_url=url, headers=bearer(key), timeout=30) as http:
        for _ in range(times):
            assert http.get("/api/auth/me").status_code == 200


def test_counts_from_two_processes_add_up_and_a_stop_loses_none(tmp_path: Path, database_url: str) -> None:
    # The default write interval (30 s): what the two processes counted after each key's first use is still
    # in memory when they stop, so the stop is what writes it.
    with serve(tmp_path / "a", database_url, env=SHARED) as first:
        with httpx.Client(base_url=first.url, timeout=30) as http:
            owner = register(http)
            created: dict[str, Any] = http.post(KEYS, json={"name": "ci"}, headers=owner.headers).json()
        with serve(tmp_path / "b", database_url, env=SHARED) as second:
            _use(first.url, created["key"], 7)
            _use(second.url, created["key"], 5)
            _use(first.url, created["key"], 4)
    # Both stopped (SIGTERM, as a deployment stops them): another process, this one, reads what they wrote.
    reader = Settings(data_dir=tmp_path / "c", database_url=database_url, jwt_secret=SHARED["PROVENANT_JWT_SECRET"])
    with TestClient(create_app(reader)) as http:
        assert _usage_today(http, owner, created["id"]) == 16
        (listed,) = http.get(KEYS, headers=owner.headers).json()
        assert listed["lastUsedAt"] is not None


def test_uses_with_no_request_after_them_are_written_by_the_timer(tmp_path: Path, database_url: str) -> None:
    every = {"PROVENANT_KEY_USE_WRITE_INTERVAL": str(WRITE_INTERVAL)}
    with serve(tmp_path, database_url, env=every) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        owner = register(http)
        created = http.post(KEYS, json={"name": "ci"}, headers=owner.headers).json()
        _use(server.url, created["key"], 6)
        assert _usage_today(http, owner, created["id"]) == 1  # the first use, written at once

        # The timer is due one interval after the second use. Far below the default 30 s: a server that
        # ignored the setting fails here.
        deadline = time.monotonic() + 2 * WRITE_INTERVAL
        while _usage_today(http, owner, created["id"]) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)

        assert _usage_today(http, owner, created["id"]) == 6
        assert "key use not written" not in server.log()


def test_a_rolled_keys_grace_period_ends_in_every_process(tmp_path: Path, database_url: str) -> None:
    with (
        serve(tmp_path / "a", database_url, env=SHARED) as first,
        serve(tmp_path / "b", database_url, env=SHARED) as second,
        httpx.Client(base_url=first.url, timeout=30) as http,
    ):
        owner = register(http)
        old = http.post(KEYS, json={"name": "ci"}, headers=owner.headers).json()
        rolled = http.post(f"{KEYS}/{old['id']}/roll", json={"graceSeconds": 2}, headers=owner.headers)
        assert rolled.status_code == 201, rolled.text
        grace_ends = time.monotonic() + 2
        new_key = rolled.json()["key"]

        for url in (first.url, second.url):
            assert httpx.get(f"{url}/api/auth/me", headers=bearer(old["key"])).status_code == 200
            assert httpx.get(f"{url}/api/auth/me", headers=bearer(new_key)).status_code == 200
        time.sleep(max(0.0, grace_ends - time.monotonic()) + 0.2)
        for url in (first.url, second.url):
            assert_unauthorized(httpx.get(f"{url}/api/auth/me", headers=bearer(old["key"])), "api_key_expired")
            assert httpx.get(f"{url}/api/auth/me", headers=bearer(new_key)).status_code == 200


def test_two_processes_rolling_one_key_at_once_make_one_new_key(tmp_path: Path, database_url: str) -> None:
    """The old key is locked while it is rolled: the second roll finds it rolled (409), never a second heir."""
    with (
        serve(tmp_path / "a", database_url, env=SHARED) as first,
        serve(tmp_path / "b", database_url, env=SHARED) as second,
        httpx.Client(base_url=first.url, timeout=30) as http,
    ):
        owner = register(http)
        for attempt in range(5):
            old = http.post(KEYS, json={"name": f"ci-{attempt}"}, headers=owner.headers).json()
            roll = f"{KEYS}/{old['id']}/roll"
            with ThreadPoolExecutor(max_workers=2) as pool:
                sent = [
                    pool.submit(httpx.post, url + roll, json={"graceSeconds": 60}, headers=owner.headers, timeout=30)
                    for url in (first.url, second.url)
                ]
                answers = [future.result() for future in sent]
            statuses = sorted(answer.status_code for answer in answers)
            # 409 api_key_rolled, or 503 busy when the other process held the lock past the timeout.
            assert statuses[0] == 201 and statuses[1] in (409, 503), [answer.text for answer in answers]
            heirs = [key for key in http.get(KEYS, headers=owner.headers).json() if key["name"] == f"ci-{attempt}"]
            assert len(heirs) == 2  # the old key (in its grace period) and one new key
