"""Authentication across `provenant serve --workers 4`: each worker reads keys on its own connection,
and none of them may act on what it read before."""

from pathlib import Path

import httpx
import pytest

from tests.factories import assert_unauthorized, bearer, register
from tests.servers import serve

pytestmark = pytest.mark.both_databases  # each worker's reads see other processes' commits: each database's isolation

ME = "/api/auth/me"
REQUESTS = 40  # each on a new connection, so the kernel spreads them over the four workers


def _fresh_requests(url: str, key: str) -> list[httpx.Response]:
    responses = []
    for _ in range(REQUESTS):
        with httpx.Client(base_url=url, headers=bearer(key), timeout=30) as fresh:
            responses.append(fresh.get(ME))
    return responses


def test_a_key_revoked_through_one_worker_is_refused_by_every_worker_at_once(
    tmp_path: Path, database_url: str
) -> None:
    with (
        serve(tmp_path / "workers", database_url, workers=4) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        owner = register(http)
        created = http.post("/api/org/keys", json={"name": "ci"}, headers=owner.headers).json()
        assert {r.status_code for r in _fresh_requests(server.url, created["key"])} == {200}

        assert http.delete(f"/api/org/keys/{created['id']}", headers=owner.headers).status_code == 200

        for response in _fresh_requests(server.url, created["key"]):
            assert_unauthorized(response, "api_key_revoked")
