"""Trusted CI: with no API key, the client exchanges the CI provider's ID token for a short-lived key, and
again shortly before it expires, in the blocking, async and background modes. Against the real server and a
stand-in for GitHub Actions' token request URL on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine

from ci_provider import CiProvider, ci_provider
from provenant_sdk import (
    AsyncProvenantClient,
    AuthenticationError,
    PermissionDeniedError,
    ProvenantClient,
    ProvenantError,
)

from accounts import Account


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[CiProvider]:
    for name in ("PROVENANT_ID_TOKEN", "PROVENANT_OIDC_AUDIENCE", "ACTIONS_ID_TOKEN_REQUEST_URL"):
        monkeypatch.delenv(name, raising=False)
    with ci_provider() as running:
        yield running


def trust(account: Account, provider: CiProvider, **fields: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{account.base_url}/api/org/trust-policies",
        json=provider.policy(**fields),
        headers={"Authorization": f"Bearer {account.jwt}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def ephemeral_keys(account: Account) -> list[dict[str, Any]]:
    keys = httpx.get(
        f"{account.base_url}/api/org/keys", headers={"Authorization": f"Bearer {account.jwt}"}, timeout=30
    ).json()
    return [key for key in keys if key["ephemeral"]]


def in_github_actions(monkeypatch: pytest.MonkeyPatch, provider: CiProvider) -> None:
    for name, value in provider.env().items():
        monkeypatch.setenv(name, value)


def test_a_client_with_no_key_in_github_actions_exchanges_the_jobs_id_token(
    account: Account, provider: CiProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust(account, provider)
    in_github_actions(monkeypatch, provider)
    with ProvenantClient(base_url=account.base_url) as client:
        me = client.me()
        agent = client.agents.get_or_create("evals")
        assert client.me()["apiKey"]["id"] == me["apiKey"]["id"]  # the same key while it is fresh
    assert me["authMethod"] == "api_key" and me["email"] == account.email
    assert agent["name"] == "evals"
    assert provider.audiences == ["provenant"]
    [key] = ephemeral_keys(account)
    assert key["id"] == me["apiKey"]["id"] and key["access"] == "ingest"


def test_the_audience_comes_from_provenant_oidc_audience(
    account: Account, provider: CiProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust(account, provider, audience="provenant:acme")
    in_github_actions(monkeypatch, provider)
    monkeypatch.setenv("PROVENANT_OIDC_AUDIENCE", "provenant:acme")
    with ProvenantClient(base_url=account.base_url) as client:
        assert client.me()["authMethod"] == "api_key"
    assert provider.audiences == ["provenant:acme"]


def test_a_key_about_to_expire_is_exchanged_again(
    account: Account, provider: CiProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust(account, provider, ttlSeconds=120)  # exchanged again 30 s before it expires
    in_github_actions(monkeypatch, provider)
    with ProvenantClient(base_url=account.base_url) as client:
        first = client.me()["apiKey"]["id"]
        with time_machine.travel(datetime.now(UTC) + timedelta(seconds=95), tick=True):
            second = client.me()["apiKey"]["id"]
            assert client.me()["apiKey"]["id"] == second
    assert first != second and len(provider.audiences) == 2
    assert len(ephemeral_keys(account)) == 2


def test_background_mode_sends_with_a_key_exchanged_again_before_expiry(
    account: Account, provider: CiProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust(account, provider, ttlSeconds=120)
    in_github_actions(monkeypatch, provider)
    with ProvenantClient(base_url=account.base_url) as client:
        agent = client.agents.get_or_create("background")
        with client.session(agent["id"]) as session:
            client.log_turn(session, "USER", "before")
            assert client.flush(30)
            with time_machine.travel(datetime.now(UTC) + timedelta(seconds=95), tick=True):
                client.log_turn(session, "ASSISTANT", "after")
                assert client.flush(30)
        assert client.dropped_turns == 0
    stored = httpx.get(
        f"{account.base_url}/api/sessions/{session.id}",
        headers={"Authorization": f"Bearer {account.jwt}"},
        timeout=30,
    ).json()
    assert [turn["content"] for turn in stored["turns"]] == ["before", "after"]
    assert len(provider.audiences) == 2


async def _async_me(base_url: str) -> dict[str, Any]:
    async with AsyncProvenantClient(base_url=base_url) as client:
        first = await client.me()
        again = await client.me()
        assert again["apiKey"]["id"] == first["apiKey"]["id"]
        return dict(first)


@pytest.mark.anyio
async def test_the_async_client_exchanges_too(
    account: Account, provider: CiProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust(account, provider)
    in_github_actions(monkeypatch, provider)
    me = await _async_me(account.base_url)
    assert me["authMethod"] == "api_key" and provider.audiences == ["provenant"]


def test_a_token_given_in_provenant_id_token_is_exchanged(
    account: Account, provider: CiProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitLab's `id_tokens:` and any other CI: the job hands the token over in an environment variable."""
    trust(account, provider)
    monkeypatch.setenv("PROVENANT_ID_TOKEN", provider.id_token())
    with ProvenantClient(base_url=account.base_url) as client:
        assert client.me()["authMethod"] == "api_key"
    assert provider.audiences == []  # nothing asked of GitHub


def test_an_api_key_given_wins_over_an_id_token(
    account: Account, provider: CiProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust(account, provider)
    in_github_actions(monkeypatch, provider)
    with ProvenantClient(base_url=account.base_url, api_key=account.api_key) as client:
        assert client.me()["apiKey"]["name"] == "sdk-tests"
    assert provider.audiences == [] and ephemeral_keys(account) == []


def test_a_job_no_policy_trusts_gets_the_servers_refusal(
    account: Account, provider: CiProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust(account, provider, claims={"repository": "acme/other"})
    in_github_actions(monkeypatch, provider)
    with (
        ProvenantClient(base_url=account.base_url) as client,
        pytest.raises(PermissionDeniedError) as refused,
    ):
        client.me()
    assert refused.value.code == "no_matching_policy"


def test_a_workflow_without_id_token_permission_is_told_so(
    account: Account, provider: CiProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_github_actions(monkeypatch, provider)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong")
    with ProvenantClient(base_url=account.base_url) as client, pytest.raises(ProvenantError) as refused:
        client.me()
    assert refused.value.code == "id_token_unavailable" and "id-token: write" in str(refused.value)


def test_without_a_key_or_an_id_token_the_client_says_what_is_missing(provider: CiProvider) -> None:
    with pytest.raises(ProvenantError) as missing:
        ProvenantClient(base_url="http://127.0.0.1:1")
    assert missing.value.code == "missing_api_key"


def test_a_key_revoked_with_its_policy_is_exchanged_again_and_the_refusal_surfaces(
    account: Account, provider: CiProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = trust(account, provider)
    in_github_actions(monkeypatch, provider)
    with ProvenantClient(base_url=account.base_url) as client:
        client.me()
        deleted = httpx.delete(
            f"{account.base_url}/api/org/trust-policies/{policy['id']}",
            headers={"Authorization": f"Bearer {account.jwt}"},
            timeout=30,
        )
        assert deleted.status_code == 200
        with pytest.raises(AuthenticationError) as refused:
            client.me()  # 401 api_key_revoked, so a new token is exchanged: no policy trusts its issuer now
    assert refused.value.code == "invalid_id_token"


EVALUATE = Path(__file__).resolve().parents[3] / "docs" / "trusted-ci" / "evaluate.py"


def test_the_documented_evaluation_script_sends_its_sessions_with_no_key(
    account: Account, provider: CiProvider
) -> None:
    """docs/trusted-ci/evaluate.py, as the documented GitHub Actions workflow runs it: PROVENANT_URL only."""
    trust(account, provider)
    env = {name: value for name, value in os.environ.items() if not name.startswith("PROVENANT_")}
    env |= {"PROVENANT_URL": account.base_url, "GITHUB_RUN_ID": "77", **provider.env()}
    result = subprocess.run(
        [sys.executable, str(EVALUATE)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "3/3 cases passed" in result.stdout
    sessions = httpx.get(
        f"{account.base_url}/api/sessions",
        headers={"Authorization": f"Bearer {account.jwt}"},
        timeout=30,
    ).json()
    assert sorted(session["externalId"] for session in sessions) == ["eval-77-1", "eval-77-2", "eval-77-3"]
    assert provider.audiences == ["provenant"]
