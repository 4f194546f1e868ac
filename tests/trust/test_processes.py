"""Two server processes on one PostgreSQL database (two machines behind a load balancer): one ID token sent
to both at once is exchanged exactly once, and a policy deleted while jobs exchange tokens in the other process
leaves no key of it working."""

import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.factories import register
from tests.oidc_issuer import running_issuer
from tests.servers import serve

pytestmark = pytest.mark.postgresql_only


def test_one_token_is_exchanged_once_and_a_deleted_policys_keys_all_stop_across_processes(
    tmp_path: Path, database_url: str
) -> None:
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
            created = http.post("/api/org/trust-policies", json=policy, headers=owner.headers)
            assert created.status_code == 201
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

        # Jobs exchange fresh tokens in one process while the policy is deleted in the other.
        def exchange_fresh(_: int) -> httpx.Response:
            return httpx.post(f"{first.url}/api/auth/token-exchange", json={"idToken": issuer.token()}, timeout=30)

        with ThreadPoolExecutor(8) as pool:
            racing = [pool.submit(exchange_fresh, n) for n in range(24)]
            deleted = httpx.delete(
                f"{second.url}/api/org/trust-policies/{created.json()['id']}", headers=owner.headers, timeout=30
            )
            answers = [future.result() for future in racing]
        assert deleted.status_code == 200, deleted.text
        minted = [a.json()["key"] for a in answers if a.status_code == 201]
        refused = {(a.status_code, a.json()["code"]) for a in answers if a.status_code != 201}
        # After the deletion: no policy trusts the issuer (401); during a job's verification: deleted meanwhile (403).
        assert refused <= {(401, "invalid_id_token"), (403, "no_matching_policy")}, refused
        for key in minted:  # minted before the deletion committed, so revoked by it; none after
            me = httpx.get(f"{second.url}/api/auth/me", headers={"Authorization": f"Bearer {key}"}, timeout=30)
            assert me.status_code == 401 and me.json()["code"] == "api_key_revoked"
