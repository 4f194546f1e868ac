"""AsyncProvenantClient: the same methods, awaited, against the same real server."""

import asyncio
import uuid

import pytest

from provenant_sdk import (
    APIConnectionError,
    APIStatusError,
    AsyncProvenantClient,
    AuthenticationError,
    ConflictError,
    NotFoundError,
)

from accounts import Account
from servers import FlakyProxy

pytestmark = pytest.mark.anyio


async def test_me_and_agents(account: Account) -> None:
    async with AsyncProvenantClient(base_url=account.base_url, api_key=account.api_key) as client:
        assert (await client.me())["email"] == account.email
        agent = await client.create_agent("Async Bot", "async-bot", tags=["a"])
        assert await client.get_agent(agent["id"]) == agent
        assert await client.get_or_create_agent("Async Bot") == agent["id"]
        assert [a["id"] for a in await client.list_agents(status="ACTIVE")] == [agent["id"]]
        with pytest.raises(ConflictError):
            await client.create_agent("Again", "async-bot")
        with pytest.raises(NotFoundError):
            await client.get_agent(str(uuid.uuid4()))
    assert client.is_closed


async def test_concurrent_get_or_create_makes_one_agent(account: Account) -> None:
    async with AsyncProvenantClient(base_url=account.base_url, api_key=account.api_key) as client:
        ids = await asyncio.gather(*(client.get_or_create_agent("Racer") for _ in range(5)))
        assert len(set(ids)) == 1
        assert [agent["id"] for agent in await client.list_agents()] == [ids[0]]


async def test_api_keys(account: Account) -> None:
    async with AsyncProvenantClient(base_url=account.base_url, api_key=account.api_key) as client:
        new = await client.create_api_key("async-ci", expires_at="2099-06-01T00:00:00+00:00")
        assert new["expiresAt"] is not None and new["expiresAt"].startswith("2099-06-01T00:00:00")
        assert {key["id"] for key in await client.list_api_keys()} >= {new["id"]}
        assert await client.revoke_api_key(new["id"]) == {"success": True}
        assert new["id"] in {key["id"] for key in await client.list_api_keys(include_revoked=True)}
    async with AsyncProvenantClient(base_url=account.base_url, api_key=new["key"]) as revoked:
        with pytest.raises(AuthenticationError) as caught:
            await revoked.me()
    assert caught.value.code == "api_key_revoked"


async def test_sessions_and_the_session_block(account: Account) -> None:
    async with AsyncProvenantClient(base_url=account.base_url, api_key=account.api_key) as client:
        agent_id = await client.get_or_create_agent("Async Sessions")
        async with client.session(agent_id, tags=["async"]) as session:
            turn = await client.add_turn(session["id"], "USER", ["part one", "part two"], input_tokens=3)
            assert turn["content"] == ["part one", "part two"]
        completed = await client.get_session(session["id"])
        assert completed["status"] == "COMPLETED"
        assert [t["id"] for t in completed["turns"]] == [turn["id"]]

        with pytest.raises(ValueError, match="bad input"):
            async with client.session(agent_id) as failing:
                raise ValueError("bad input")
        assert (await client.get_session(failing["id"]))["status"] == "FAILED"

        manual = await client.create_session(agent_id, external_id="manual")
        ended = await client.end_session(manual["id"], status="FAILED", total_latency_ms=9)
        assert ended["status"] == "FAILED"
        assert ended["totalLatencyMs"] == 9


async def test_retries(proxy: FlakyProxy, account: Account) -> None:
    async with AsyncProvenantClient(base_url=proxy.url, api_key=account.api_key) as client:
        proxy.script = ["503", "drop"]
        assert await client.list_agents() == []
        assert len(proxy.hits) == 3

        proxy.script = ["429:1"]
        await client.me()
        assert proxy.hits[-1].at - proxy.hits[-2].at >= 1.0

        proxy.script = ["503"]
        with pytest.raises(APIStatusError) as caught:
            await client.create_agent("Once", "once")
        assert caught.value.status_code == 503
        assert proxy.hits[-1].method == "POST" and proxy.hits[-2].method == "GET"

        proxy.script = ["drop"]
        with pytest.raises(APIConnectionError):
            await client.create_agent("Once", "once")
        assert proxy.hits[-1].method == "POST" and proxy.hits[-2].method == "POST"
