"""One ID token sent at once to two server processes on one PostgreSQL database (two machines behind a
load balancer): exactly one exchange succeeds, the others find the token used."""

import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.factories import register
from tests.oidc_issuer import running_issuer
from tests.servers import serve

pytestmark = pytest.mark.postgresql_only


def test_thirty_exchanges_of_one_token_across_two_processes_mint_one_key(tmp_path: Path, database_url: str) -> None:
    env = {"PROVENANT_JWT_SECRET": secrets.token_hex(32), "PROVENANT_ALLOWED_ISSUER_HOSTS": "127.0.0.1"}
    with (
        running_issuer() as issuer,
        serve(tmp_path / "a", database_url, env=env) as first,
        serve(tmp_path / "b", database_url, env=env) as second,
    ):
        with httpx.Client(base_url=first.url, timeout=30) as http:
            owner = register(http)
            policy = {"name": "ci", "issuer": issuer.url, "audience": "provenant", "access": "ingest"}
            policy["claims"] = {"repository": "acme/agent"}
            assert http.post("/api/org/trust-policies", json=policy, headers=owner.headers).status_code == 201
        for server in (first, second):  # each process fetches the issuer's keys once, before the race
            assert (
                httpx.post(f"{server.url}/api/auth/token-exchange", json={"idToken": issuer.token()}).status_code == 201
            )
        token = issuer.token()
        urls = [first.url, second.url] * 15
        with ThreadPoolExecutor(30) as pool:
            answers = list(
                pool.map(
                    lambda url: httpx.post(f"{url}/api/auth/token-exchange", json={"idToken": token}, timeout=30), urls
                )
            )
        codes = sorted((a.status_code, a.json()["code"] if a.status_code != 201 else "") for a in answers)
        assert codes == [(201, "")] + [(401, "id_token_reused")] * 29, [a.text for a in answers]
