"""A JWT signed with the right secret is still refused unless every claim is what this server issues."""

import base64
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from provenant.auth import security
from tests.factories import assert_unauthorized, bearer, register

ME = "/api/auth/me"
NOW = int(time.time())


def _token(app: FastAPI, user_id: str, **changes: Any) -> str:
    claims: dict[str, Any] = {"sub": user_id, "iat": int(time.time()), "jti": "a-token-id", "gen": 0}
    claims["exp"] = claims["iat"] + 3600
    claims.update(changes)
    for name, value in changes.items():
        if value is ...:  # left out
            del claims[name]
    return jwt.encode(claims, app.state.jwt_secret, algorithm="HS256")


def test_the_claims_this_server_issues_are_accepted(client: TestClient, app: FastAPI) -> None:
    owner = register(client)
    assert client.get(ME, headers=bearer(_token(app, owner.user_id))).status_code == 200


def test_a_token_from_a_replica_whose_clock_runs_ahead_works_at_once(client: TestClient, app: FastAPI) -> None:
    """Issued by another machine of the deployment 30 s ahead of this one; two minutes ahead is refused."""
    owner = register(client)
    ahead = int(time.time()) + 30
    token = _token(app, owner.user_id, iat=ahead, exp=ahead + 3600)
    assert client.get(ME, headers=bearer(token)).status_code == 200
    too_far = int(time.time()) + 120  # past the minute a clock may be off
    token = _token(app, owner.user_id, iat=too_far, exp=too_far + 3600)
    assert_unauthorized(client.get(ME, headers=bearer(token)), "invalid_token")


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": str(NOW + 3600)}, id="exp a string"),
        pytest.param({"exp": NOW + 3600.0}, id="exp a float"),
        pytest.param({"exp": NOW + 3600.5}, id="exp a fraction"),
        pytest.param({"exp": 1e20}, id="exp 1e20"),
        pytest.param({"exp": 10**20}, id="exp 10**20"),
        pytest.param({"exp": float("inf")}, id="exp Infinity"),
        pytest.param({"exp": True}, id="exp true"),
        pytest.param({"exp": NOW + 8 * 86400}, id="exp past the 7-day lifetime"),
        pytest.param({"exp": ...}, id="no exp"),
        pytest.param({"iat": str(NOW)}, id="iat a string"),
        pytest.param({"iat": float(NOW)}, id="iat a float"),
        pytest.param({"iat": 1e20}, id="iat 1e20"),
        pytest.param({"iat": -1}, id="iat negative"),
        pytest.param({"iat": NOW + 3600, "exp": NOW + 7200}, id="iat an hour in the future"),
        pytest.param({"iat": NOW + 3600}, id="iat after exp"),
        pytest.param({"iat": ...}, id="no iat"),
        pytest.param({"sub": 12345}, id="sub a number"),
        pytest.param({"sub": None}, id="sub null"),
        pytest.param({"sub": ["a"]}, id="sub a list"),
        pytest.param({"sub": ""}, id="sub empty"),
        pytest.param({"sub": ...}, id="no sub"),
        pytest.param({"jti": ...}, id="no jti (issued before tokens could be revoked)"),
        pytest.param({"jti": 7}, id="jti a number"),
        pytest.param({"jti": "x" * 65}, id="jti too long"),
        pytest.param({"gen": ...}, id="no gen"),
        pytest.param({"gen": "0"}, id="gen a string"),
        pytest.param({"gen": 0.0}, id="gen a float"),
        pytest.param({"gen": False}, id="gen false"),
        pytest.param({"gen": -1}, id="gen negative"),
        pytest.param({"gen": 2**63}, id="gen huge"),
        # A claim this server never issues: nbf was ignored (a token not yet valid was accepted), and any claim
        # the server does not read could carry a limit its signer meant.
        pytest.param({"nbf": NOW + 3600}, id="nbf in an hour"),
        pytest.param({"nbf": NOW - 60}, id="nbf a minute ago"),
        pytest.param({"aud": "another-service"}, id="aud"),
        pytest.param({"scope": "read"}, id="scope"),
    ],
)
def test_an_odd_claim_is_an_invalid_token(client: TestClient, app: FastAPI, changes: dict[str, Any]) -> None:
    owner = register(client)
    response = client.get(ME, headers=bearer(_token(app, owner.user_id, **changes)))
    assert_unauthorized(response, "invalid_token")


def test_a_token_of_another_generation_is_revoked(client: TestClient, app: FastAPI) -> None:
    """Generations only move forward, so a token ahead of its user's (a restored backup) is refused too."""
    owner = register(client)
    assert_unauthorized(client.get(ME, headers=bearer(_token(app, owner.user_id, gen=1))), "token_revoked")


def _signed(app: FastAPI, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token of ``header`` and ``claims`` with a true HMAC-SHA256 signature by the server's secret."""

    def part(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    def encoded(value: Any) -> str:  # without spaces, as PyJWT writes the header this server issues
        return part(json.dumps(value, separators=(",", ":")).encode())

    signing_input = f"{encoded(header)}.{encoded(claims)}"
    signature = hmac.digest(app.state.jwt_secret.encode(), signing_input.encode(), "sha256")
    return f"{signing_input}.{part(signature)}"


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({"alg": "HS512", "typ": "JWT"}, id="another algorithm named"),
        pytest.param({"alg": "none", "typ": "JWT"}, id="alg none"),
        pytest.param({"alg": "HS256", "typ": "JWT", "kid": "another-key"}, id="a header field never issued"),
        pytest.param({"alg": "HS256", "typ": "JWT", "crit": ["exp"]}, id="crit"),
        pytest.param({"typ": "JWT"}, id="no alg"),
        pytest.param(["HS256"], id="not an object"),
        pytest.param({"typ": "JWT", "alg": "HS256"}, id="the same fields in another order"),
    ],
)
def test_a_header_this_server_never_signs_is_an_invalid_token(
    client: TestClient, app: FastAPI, header: dict[str, Any]
) -> None:
    """Signed with the right secret over the right claims: only the header differs from what the server issues."""
    owner = register(client)
    claims = {"sub": owner.user_id, "iat": int(time.time()), "exp": int(time.time()) + 3600, "jti": "t", "gen": 0}
    assert client.get(ME, headers=bearer(_signed(app, {"alg": "HS256", "typ": "JWT"}, claims))).status_code == 200
    assert_unauthorized(client.get(ME, headers=bearer(_signed(app, header, claims))), "invalid_token")


def test_an_mfa_token_from_a_replica_whose_clock_runs_ahead_works_and_one_from_the_future_does_not() -> None:
    """The password checked on one machine, the code on another: the mfaToken crosses replicas like a session JWT."""
    secret = "s" * 64
    ahead = security.issue_mfa_token("user-1", secret, datetime.now(UTC) + timedelta(seconds=30), generation=0)
    assert security.decode_mfa_token(ahead, secret).user_id == "user-1"
    too_far = security.issue_mfa_token("user-1", secret, datetime.now(UTC) + timedelta(seconds=120), generation=0)
    with pytest.raises(security.TokenInvalid):
        security.decode_mfa_token(too_far, secret)
