"""Key access levels, rolling with a grace period, and usage per day, through the SDK and the real server."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from provenant_sdk import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    ProvenantClient,
    RateLimitError,
)

from accounts import Account


def as_key(account: Account, key: str) -> ProvenantClient:
    return ProvenantClient(base_url=account.base_url, api_key=key)


def test_a_read_key_reads_and_is_refused_writes(client: ProvenantClient, account: Account) -> None:
    created = client.create_api_key("dashboards", access="read")
    assert created["access"] == "read"
    with as_key(account, created["key"]) as reader:
        me = reader.me()
        assert me["apiKey"]["id"] == created["id"]
        assert me["permissions"]["actions"] == [
            "read",
            "read_own_sessions",
            "read_invitations",
            "read_audit",
            "read_trust_policies",
        ]
        assert me["permissions"]["grantableRoles"] == []
        assert reader.list_agents() == []
        with pytest.raises(PermissionDeniedError) as caught:
            reader.create_agent("Nope", "nope")
    assert caught.value.code == "forbidden"


def test_an_ingest_key_logs_sessions_and_reads_nothing_else(
    client: ProvenantClient, account: Account
) -> None:
    created = client.api_keys.create("prod-agent", access="ingest")
    assert created["access"] == "ingest"
    with as_key(account, created["key"]) as agent_key:
        agent = agent_key.agents.get_or_create("Ingest only")
        with agent_key.session(agent["id"]) as session:
            session.log_turn("USER", "hello")
        assert agent_key.flush(timeout=30)
        assert agent_key.dropped_turns == 0
        assert [turn["content"] for turn in agent_key.get_session(session.id)["turns"]] == ["hello"]
        with pytest.raises(PermissionDeniedError):
            agent_key.list_api_keys()


def test_the_default_access_is_full(client: ProvenantClient) -> None:
    assert client.create_api_key("ci")["access"] == "full"


def test_rolling_with_a_grace_period_keeps_the_old_key_working(
    client: ProvenantClient, account: Account
) -> None:
    old = client.create_api_key("github-actions-ci", access="read", expires_at="2099-01-01T00:00:00Z")
    new = client.roll_api_key(old["id"], grace_seconds=3600)
    assert new["key"].startswith("pk_live_") and new["key"] != old["key"]
    assert (new["name"], new["access"], new["expiresAt"]) == (old["name"], old["access"], old["expiresAt"])
    with as_key(account, old["key"]) as still_working, as_key(account, new["key"]) as rolled:
        assert still_working.me()["apiKey"]["id"] == old["id"]
        assert rolled.me()["apiKey"]["id"] == new["id"]
    listed = {key["id"]: key for key in client.list_api_keys()}
    assert listed[old["id"]]["rolledToId"] == new["id"]
    old_expiry = datetime.fromisoformat(listed[old["id"]]["expiresAt"] or "")
    assert timedelta(minutes=59) < old_expiry - datetime.now(UTC) <= timedelta(hours=1)


def test_rolling_without_grace_ends_the_old_key_at_once(client: ProvenantClient, account: Account) -> None:
    old = client.api_keys.create("deploy")
    new = client.api_keys.roll(old["id"])
    with as_key(account, old["key"]) as stale, pytest.raises(AuthenticationError) as caught:
        stale.me()
    assert caught.value.code == "api_key_expired"
    with as_key(account, new["key"]) as rolled:
        assert rolled.me()["apiKey"]["id"] == new["id"]


def test_rolling_a_revoked_key_is_a_conflict(client: ProvenantClient) -> None:
    key = client.create_api_key("gone")
    client.revoke_api_key(key["id"])
    with pytest.raises(ConflictError):
        client.roll_api_key(key["id"], grace_seconds=60)


def test_usage_is_one_count_per_day_oldest_first(client: ProvenantClient) -> None:
    key_id = client.me()["apiKey"]["id"]
    week = client.api_key_usage(key_id, days=7)
    today = datetime.now(UTC).date()  # the server counts UTC days
    assert [day["date"] for day in week] == [(today - timedelta(days=6 - i)).isoformat() for i in range(7)]
    assert all(isinstance(day["requests"], int) and day["requests"] >= 0 for day in week)
    assert len(client.api_keys.usage(key_id)) == 30


def test_a_key_with_a_rate_limit_is_refused_past_it_with_a_rate_limit_error(
    client: ProvenantClient, account: Account
) -> None:
    created = client.api_keys.create("busy-agent", rate_limit_per_minute=2)
    assert created["rateLimitPerMinute"] == 2
    assert client.roll_api_key(created["id"], grace_seconds=60)["rateLimitPerMinute"] == 2
    if 60 - time.time() % 60 < 10:  # the three requests below must fall in one minute of the clock
        time.sleep(60 - time.time() % 60 + 0.1)
    with ProvenantClient(base_url=account.base_url, api_key=created["key"], max_retries=0) as limited:
        limited.me()
        limited.me()
        with pytest.raises(RateLimitError) as caught:
            limited.me()
    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= 60
