"""The sync client's methods against the real server: who am I, API keys, agents."""

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from provenant_sdk import AuthenticationError, ProvenantClient

from accounts import Account


def test_me_describes_the_key_and_its_owner(client: ProvenantClient, account: Account) -> None:
    me = client.me()
    assert me["email"] == account.email
    assert me["role"] == "OWNER"
    assert me["orgId"] == account.org_id
    assert me["authMethod"] == "api_key"
    assert me["apiKey"]["name"] == "sdk-tests"


def test_repr_shows_where_not_who(client: ProvenantClient, account: Account) -> None:
    assert repr(client) == f"ProvenantClient(base_url={account.base_url!r}, max_retries=2)"


def test_context_manager_closes_the_pool(account: Account) -> None:
    with ProvenantClient(base_url=account.base_url, api_key=account.api_key) as client:
        client.me()
        assert not client.is_closed
    assert client.is_closed


def test_close(account: Account) -> None:
    client = ProvenantClient(base_url=account.base_url, api_key=account.api_key)
    client.close()
    assert client.is_closed


def test_rotating_a_key_in_ci(client: ProvenantClient, account: Account) -> None:
    old_id = client.me()["apiKey"]["id"]
    new = client.create_api_key("github-actions-ci")
    assert new["key"].startswith("pk_live_") and len(new["key"]) == len("pk_live_") + 32
    assert new["keyPrefix"] == new["key"][len("pk_live_") : len("pk_live_") + 8]
    assert new["isActive"] is True

    with ProvenantClient(base_url=account.base_url, api_key=new["key"]) as rotated:
        assert rotated.me()["apiKey"]["id"] == new["id"]
        assert rotated.revoke_api_key(old_id) == {"success": True}
        assert rotated.revoke_api_key(old_id) == {"success": True}  # idempotent

        with pytest.raises(AuthenticationError) as caught:
            client.me()
        assert caught.value.code == "api_key_revoked"

        listed = rotated.list_api_keys()
        assert [key["id"] for key in listed] == [new["id"]]
        assert all("key" not in key for key in listed)
        with_revoked = rotated.list_api_keys(include_revoked=True)
        assert [key["id"] for key in with_revoked] == [new["id"], old_id]
        assert with_revoked[1]["revokedAt"] is not None


@pytest.mark.parametrize(
    "expires_at",
    [
        datetime(2099, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2099, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1))),
        datetime(2099, 1, 2, 3, 4, 5),  # naive: taken as UTC
        "2099-01-02T03:04:05Z",
        "2099-01-02T05:04:05+02:00",
    ],
)
def test_expiry_is_sent_as_utc(client: ProvenantClient, expires_at: datetime | str) -> None:
    key = client.create_api_key("expiring", expires_at=expires_at)
    assert key["expiresAt"] is not None
    assert key["expiresAt"].endswith("Z")
    assert datetime.fromisoformat(key["expiresAt"]) == datetime(2099, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_agents(client: ProvenantClient) -> None:
    agent = client.create_agent(
        "Support Bot", "support-bot", description="Answers tickets", tags=["support"], model_family="claude"
    )
    assert agent["slug"] == "support-bot"
    assert agent["description"] == "Answers tickets"
    assert agent["tags"] == ["support"]
    assert agent["modelFamily"] == "claude"
    assert agent["status"] == "ACTIVE"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", agent["createdAt"])
    assert client.get_agent(agent["id"]) == agent
    assert [a["id"] for a in client.list_agents()] == [agent["id"]]
    assert [a["id"] for a in client.list_agents(status="ACTIVE")] == [agent["id"]]
    assert client.list_agents(status="ARCHIVED") == []


def test_get_or_create_agent_returns_one_id(client: ProvenantClient) -> None:
    agent_id = client.get_or_create_agent("Billing Helper", tags=["billing"])
    assert client.get_or_create_agent("Billing Helper") == agent_id
    agent = client.get_agent(agent_id)
    assert agent["name"] == "Billing Helper"
    assert agent["tags"] == ["billing"]
    assert len(client.list_agents()) == 1
