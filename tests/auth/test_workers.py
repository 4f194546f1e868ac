"""Authentication across server processes (`provenant serve --workers N`, or machines behind a load
balancer): each process reads keys on its own connection, and none of them may act on what it read before.

Two servers on one database, so that each request goes to the process the test chooses: `--workers N`
leaves that to the kernel, which may give one worker a run of fresh connections (with two workers, all
40 of 40 in one of eight tries; with four, a quarter to a half of them to the worker that revoked).
"""

from pathlib import Path

import pytest

from tests.factories import assert_unauthorized, bearer, register
from tests.servers import two_processes

pytestmark = pytest.mark.both_databases  # each process's reads see other processes' commits: each database's isolation

ME = "/api/auth/me"
USES = 5  # per process, before and after the revocation


def test_a_key_revoked_through_one_process_is_refused_by_every_process_at_once(
    tmp_path: Path, database_url: str
) -> None:
    with two_processes(tmp_path, database_url) as (first, second):
        owner = register(first)
        created = first.post("/api/org/keys", json={"name": "ci"}, headers=owner.headers).json()
        key = bearer(created["key"])
        for process in (first, second):
            assert {process.get(ME, headers=key).status_code for _ in range(USES)} == {200}

        assert first.delete(f"/api/org/keys/{created['id']}", headers=owner.headers).status_code == 200

        for process in (second, first):
            for _ in range(USES):
                assert_unauthorized(process.get(ME, headers=key), "api_key_revoked")
