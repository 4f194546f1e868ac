"""POST /api/auth/token-exchange against a real issuer on loopback: what a CI job gets, and every way a
token that should not get a key is refused."""

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import add_member, bearer, register, set_role
from tests.oidc_issuer import Issuer, SigningKey, make_key
from tests.servers import free_port
from tests.trust.conftest import create_policy, exchange


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(issuer: Issuer, alg: str = "none") -> str:
    header = _b64(json.dumps({"alg": alg, "typ": "JWT", "kid": issuer.keys[0].kid}).encode())
    return f"{header}.{_b64(json.dumps(issuer.claims()).encode())}."


@pytest.mark.both_databases  # the used-token row, the key and its bookkeeping are SQL
@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_a_job_token_becomes_a_short_lived_key_that_works(client: TestClient, issuer: Issuer, algorithm: str) -> None:
    owner = register(client)
    policy = create_policy(client, owner, issuer.url, ttlSeconds=600)
    key = next(k for k in issuer.keys if k.algorithm == algorithm)
    before = datetime.now(UTC)
    response = exchange(client, issuer.token(key=key))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["key"].startswith("pk_live_") and body["access"] == "ingest" and body["policyId"] == policy["id"]
    expires = datetime.fromisoformat(body["expiresAt"])
    assert before + timedelta(seconds=595) < expires < datetime.now(UTC) + timedelta(seconds=605)

    me = client.get("/api/auth/me", headers=bearer(body["key"]))
    assert me.status_code == 200 and me.json()["id"] == owner.user_id and me.json()["authMethod"] == "api_key"
    assert client.post("/api/sessions", json={}, headers=bearer(body["key"])).status_code == 422  # ingest admitted
    assert client.get("/api/org/members", headers=bearer(body["key"])).status_code == 403  # but nothing more

    listed = client.get("/api/org/keys", headers=owner.headers).json()
    [minted] = [k for k in listed if k["ephemeral"]]
    assert minted["policyId"] == policy["id"] and minted["access"] == "ingest"
    assert minted["name"] == "acme/agent @ refs/heads/main, run 7012345678"
    assert "key" not in minted


def test_the_audit_entry_names_the_policy_and_the_job_never_the_token(client: TestClient, issuer: Issuer) -> None:
    owner = register(client)
    policy = create_policy(client, owner, issuer.url)
    token = issuer.token(run_id="999", sha="abc123")
    minted = exchange(client, token).json()
    [entry] = client.get("/api/audit?action=apikey.exchanged", headers=owner.headers).json()
    assert entry["after"]["policy"] == {"id": policy["id"], "name": "evaluations"}
    assert entry["after"]["job"] == {
        "sub": "repo:acme/agent:ref:refs/heads/main",
        "repository": "acme/agent",
        "ref": "refs/heads/main",
        "run_id": "999",
        "sha": "abc123",
    }
    assert entry["user"]["id"] == owner.user_id
    text = json.dumps(entry)
    assert token not in text and token.split(".")[2] not in text and minted["key"] not in text


def test_the_key_acts_with_the_current_role_of_the_policy_creator(
    client: TestClient, database: Database, issuer: Issuer
) -> None:
    owner = register(client)
    admin = add_member(client, database, owner, "ADMIN")
    create_policy(client, admin, issuer.url, access="full")
    key = exchange(client, issuer.token()).json()["key"]
    assert client.post("/api/agents", json={"name": "a", "slug": "a"}, headers=bearer(key)).status_code == 201
    set_role(database, admin.user_id, "VIEWER")
    assert client.post("/api/agents", json={"name": "b", "slug": "b"}, headers=bearer(key)).status_code == 403
    assert client.get("/api/agents", headers=bearer(key)).status_code == 200


def test_a_policy_whose_creator_left_mints_nothing(client: TestClient, database: Database, issuer: Issuer) -> None:
    owner = register(client)
    admin = add_member(client, database, owner, "ADMIN")
    create_policy(client, admin, issuer.url)
    assert client.delete(f"/api/org/members/{admin.user_id}", headers=owner.headers).status_code == 200
    response = exchange(client, issuer.token())
    assert response.status_code == 401 and response.json()["code"] == "invalid_id_token"


@pytest.mark.both_databases  # the used-token row, the key and its bookkeeping are SQL
def test_a_token_works_once(client: TestClient, issuer: Issuer) -> None:
    create_policy(client, register(client), issuer.url)
    token = issuer.token()
    assert exchange(client, token).status_code == 201
    again = exchange(client, token)
    assert again.status_code == 401 and again.json()["code"] == "id_token_reused"
    assert again.headers["WWW-Authenticate"] == "Bearer"
    same_jti = issuer.token(jti=jwt.decode(token, options={"verify_signature": False})["jti"])
    assert exchange(client, same_jti).json()["code"] == "id_token_reused"
    without_jti = issuer.token(jti=None)
    assert exchange(client, without_jti).status_code == 201
    assert exchange(client, without_jti).json()["code"] == "id_token_reused"


@pytest.mark.both_databases  # the used-token row, the key and its bookkeeping are SQL
def test_thirty_concurrent_exchanges_of_one_token_mint_one_key(
    client: TestClient, database: Database, issuer: Issuer
) -> None:
    owner = register(client)
    create_policy(client, owner, issuer.url)
    assert exchange(client, issuer.token()).status_code == 201  # the issuer's keys are cached
    token = issuer.token()
    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(lambda _: exchange(client, token), range(30)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [401] * 29, [a.text for a in answers if a.status_code not in (201, 401)]
    assert {a.json()["code"] for a in answers if a.status_code == 401} == {"id_token_reused"}
    keys = client.get("/api/org/keys", headers=owner.headers).json()
    assert sum(k["ephemeral"] for k in keys) == 2


def test_a_rotated_key_is_fetched_for_its_unknown_kid_at_most_once_a_minute(client: TestClient, issuer: Issuer) -> None:
    create_policy(client, register(client), issuer.url)
    start = datetime.now(UTC)
    assert exchange(client, issuer.token()).status_code == 201
    assert exchange(client, issuer.token()).status_code == 201  # cached
    assert issuer.fetches("/.well-known/jwks") == 1

    rotated = issuer.rotate("ES256")
    too_soon = exchange(client, issuer.token(key=rotated))  # fetched less than a minute ago: not again
    assert too_soon.status_code == 401 and too_soon.json()["code"] == "invalid_id_token"
    assert issuer.fetches("/.well-known/jwks") == 1

    with time_machine.travel(start + timedelta(seconds=61), tick=True):
        assert exchange(client, issuer.token(key=rotated)).status_code == 201  # the unknown kid: refetched
        assert issuer.fetches("/.well-known/jwks") == 2
        made_up = issuer.token(key=rotated, headers={"kid": "not-published"})
        for _ in range(3):
            assert exchange(client, made_up).json()["code"] == "invalid_id_token"
        assert issuer.fetches("/.well-known/jwks") == 2  # a flood of made-up kids costs the issuer nothing
    with time_machine.travel(start + timedelta(seconds=122), tick=True):
        for _ in range(3):
            assert exchange(client, issuer.token(key=rotated, headers={"kid": "other"})).status_code == 401
        assert issuer.fetches("/.well-known/jwks") == 3  # one refetch a minute, at most


@pytest.mark.parametrize(
    ("shift", "accepted"),
    [
        ({"exp": -50}, True),  # expired 50 s ago: within the leeway
        ({"exp": -70}, False),
        ({"nbf": 50}, True),  # valid from 50 s on: within the leeway
        ({"nbf": 70}, False),
        ({"iat": 70, "nbf": 0}, False),  # issued in the future
    ],
)
def test_clock_skew_is_forgiven_for_sixty_seconds(
    client: TestClient, issuer: Issuer, shift: dict[str, int], accepted: bool
) -> None:
    create_policy(client, register(client), issuer.url)
    now = int(time.time())
    times = {"iat": now - 100, "nbf": now - 100, "exp": now + 300}
    times |= {claim: now + seconds for claim, seconds in shift.items()}
    response = exchange(client, issuer.token(**times))
    if accepted:
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 401 and response.json()["code"] == "invalid_id_token", response.text


@pytest.mark.parametrize("missing", ["exp", "nbf", "iat", "aud"])
def test_a_token_without_a_required_claim_is_refused(client: TestClient, issuer: Issuer, missing: str) -> None:
    create_policy(client, register(client), issuer.url)
    response = exchange(client, issuer.token(**{missing: None}))
    assert response.status_code == 401 and response.json()["code"] == "invalid_id_token"


def test_a_token_for_another_audience_is_refused(client: TestClient, issuer: Issuer) -> None:
    create_policy(client, register(client), issuer.url)
    response = exchange(client, issuer.token(aud="sts.amazonaws.com"))
    assert response.status_code == 401 and response.json()["code"] == "invalid_id_token"
    assert "audience" in response.json()["error"]


@pytest.mark.parametrize(
    "claims",
    [
        {"repository": "acme/other"},
        {"repository": "evil/agent"},
        {"ref": "refs/heads/feature"},
        {"ref": "refs/pull/1/merge"},
        {"repository": ["acme/agent"]},  # not a string: never equal
    ],
)
def test_a_job_the_policy_does_not_name_gets_no_key(
    client: TestClient, issuer: Issuer, claims: dict[str, object]
) -> None:
    create_policy(client, register(client), issuer.url)
    response = exchange(client, issuer.token(**claims))
    assert response.status_code == 403 and response.json()["code"] == "no_matching_policy"


def test_a_value_ending_in_a_star_matches_a_prefix(client: TestClient, issuer: Issuer) -> None:
    create_policy(client, register(client), issuer.url, claims={"repository": "acme/*", "ref": "refs/heads/*"})
    assert exchange(client, issuer.token(repository="acme/other", ref="refs/heads/x")).status_code == 201
    refused = exchange(client, issuer.token(repository="acme-evil/agent"))
    assert refused.json()["code"] == "no_matching_policy"
    assert exchange(client, issuer.token(ref="refs/tags/v1")).json()["code"] == "no_matching_policy"


def test_the_narrowest_matching_policy_of_the_org_decides(client: TestClient, issuer: Issuer) -> None:
    owner = register(client)
    create_policy(client, owner, issuer.url, name="any branch", claims={"repository": "acme/agent"}, access="read")
    narrow = create_policy(client, owner, issuer.url, name="main", access="full")
    body = exchange(client, issuer.token()).json()
    assert body["policyId"] == narrow["id"] and body["access"] == "full"
    assert exchange(client, issuer.token(ref="refs/heads/dev")).json()["access"] == "read"


def test_policies_of_two_orgs_matching_one_token_are_refused(client: TestClient, issuer: Issuer) -> None:
    create_policy(client, register(client), issuer.url)
    create_policy(client, register(client), issuer.url)
    response = exchange(client, issuer.token())
    assert response.status_code == 409 and response.json()["code"] == "ambiguous_policy"
    create_policy(client, register(client), issuer.url, audience="provenant:acme")
    assert exchange(client, issuer.token(aud="provenant:acme")).status_code == 201


@pytest.mark.parametrize("alg", ["none", "None", "HS256"])
def test_unsigned_and_symmetric_tokens_are_refused(client: TestClient, issuer: Issuer, alg: str) -> None:
    create_policy(client, register(client), issuer.url)
    response = exchange(client, _unsigned(issuer, alg))
    assert response.status_code == 401 and response.json()["code"] == "invalid_id_token"


def test_hs256_signed_with_the_public_key_as_secret_is_refused(client: TestClient, issuer: Issuer) -> None:
    create_policy(client, register(client), issuer.url)
    public_pem = (
        issuer.keys[0]
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": issuer.keys[0].kid}).encode())
    payload = _b64(json.dumps(issuer.claims()).encode())
    algorithm = jwt.get_algorithm_by_name("HS256")
    signature = algorithm.sign(f"{header}.{payload}".encode(), public_pem)
    response = exchange(client, f"{header}.{payload}.{_b64(signature)}")
    assert response.status_code == 401 and response.json()["code"] == "invalid_id_token"


def test_a_signature_by_another_key_with_the_same_kid_is_refused(client: TestClient, issuer: Issuer) -> None:
    create_policy(client, register(client), issuer.url)
    published = issuer.keys[0]
    impostor = SigningKey(kid=published.kid, algorithm="RS256", private=make_key("RS256").private)
    response = exchange(client, issuer.token(key=impostor))
    assert response.status_code == 401 and response.json()["code"] == "invalid_id_token"


def test_an_issuer_no_policy_trusts_is_never_fetched(client: TestClient, issuer: Issuer) -> None:
    create_policy(client, register(client), issuer.url)
    response = exchange(client, issuer.token(iss="http://127.0.0.1:1/other"))
    assert response.status_code == 401 and response.json()["code"] == "invalid_id_token"
    assert issuer.requests == []


@pytest.mark.parametrize(
    "body",
    [
        {"idToken": "not a jwt"},
        {"idToken": "a.b.c"},
        {"idToken": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"},  # no issuer
    ],
)
def test_malformed_tokens_are_refused_plainly(client: TestClient, issuer: Issuer, body: dict[str, str]) -> None:
    response = client.post("/api/auth/token-exchange", json=body)
    assert response.status_code == 401 and response.json()["code"] == "invalid_id_token"


@pytest.mark.parametrize("body", [{}, {"idToken": ""}, {"idToken": 7}, {"idToken": "x" * 20000}, []])
def test_hostile_bodies_get_a_422(client: TestClient, body: object) -> None:
    response = client.post("/api/auth/token-exchange", json=body)
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


@pytest.mark.both_databases  # the attempt counters are SQL
def test_refused_exchanges_are_limited_per_address_like_key_guesses(
    client: TestClient, issuer: Issuer, database: Database
) -> None:
    create_policy(client, register(client), issuer.url)
    good = issuer.token()
    codes = [exchange(client, issuer.token(repository="evil/x")).status_code for _ in range(101)]
    assert codes[:100] == [403] * 100 and codes[100] == 429
    blocked = exchange(client, good)
    assert blocked.status_code == 429 and blocked.json()["code"] == "too_many_attempts"
    assert int(blocked.headers["Retry-After"]) >= 1


def test_an_unreachable_issuer_answers_503(client: TestClient, issuer: Issuer) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    create_policy(client, register(client), url)
    response = exchange(client, issuer.token(iss=url))
    assert response.status_code == 503 and response.json()["code"] == "issuer_unavailable"
    assert response.headers["Retry-After"]


@pytest.mark.both_databases  # the ingest scope is a subquery of the policy's keys
def test_a_job_carries_on_its_sessions_with_the_next_key_and_no_other_policy_sees_them(
    client: TestClient, issuer: Issuer
) -> None:
    """An ingest key reads and writes the sessions "it created": for a CI job, those created by any key of its
    policy, as with the key a CI once stored. A job that outlives its key opened a session with the first and
    carries on with the second."""
    owner = register(client)
    create_policy(client, owner, issuer.url)
    other = create_policy(client, owner, issuer.url, name="other repo", claims={"repository": "acme/other"})
    first = exchange(client, issuer.token()).json()["key"]
    second = exchange(client, issuer.token()).json()["key"]
    stranger = exchange(client, issuer.token(repository="acme/other")).json()
    assert stranger["policyId"] == other["id"]
    agent = client.post("/api/agents/get-or-create", json={"name": "evals"}, headers=bearer(first)).json()
    opened = client.post("/api/sessions", json={"agentId": agent["id"]}, headers=bearer(first)).json()
    turn = {"role": "USER", "content": "hello"}
    path = f"/api/sessions/{opened['id']}"
    assert client.post(f"{path}/turns", json=turn, headers=bearer(second)).status_code == 201
    assert client.post(f"{path}/end", json={}, headers=bearer(second)).json()["status"] == "COMPLETED"
    assert client.get(path, headers=bearer(second)).status_code == 200
    assert client.get(path, headers=bearer(stranger["key"])).status_code == 404
    assert client.post(f"{path}/turns", json=turn, headers=bearer(stranger["key"])).status_code == 404
    assert [s["id"] for s in client.get("/api/sessions", headers=bearer(stranger["key"])).json()] == []
