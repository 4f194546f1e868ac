"""The resources (``client.agents``, ``client.sessions``, ...) and the flat names older code calls."""

import inspect
import uuid

import pytest

from provenant_sdk import (
    AsyncProvenantClient,
    AuthenticationError,
    InternalServerError,
    NotFoundError,
    ProvenantClient,
)

from accounts import Account, viewer_key
from servers import FlakyProxy

FLAT_NAMES = {
    "list_api_keys": "api_keys.list",
    "create_api_key": "api_keys.create",
    "revoke_api_key": "api_keys.revoke",
    "roll_api_key": "api_keys.roll",
    "api_key_usage": "api_keys.usage",
    "list_agents": "agents.list",
    "get_agent": "agents.get",
    "create_agent": "agents.create",
    "update_agent": "agents.update",
    "archive_agent": "agents.archive",
    "list_sessions": "sessions.list",
    "create_session": "sessions.create",
    "get_session": "sessions.get",
    "update_session": "sessions.update",
    "delete_session": "sessions.delete",
    "add_turn": "sessions.add_turn",
    "add_turns": "sessions.add_turns",
    "end_session": "sessions.end",
    "list_members": "members.list",
    "change_member_role": "members.change_role",
    "remove_member": "members.remove",
    "list_invitations": "invitations.list",
    "create_invitation": "invitations.create",
    "cancel_invitation": "invitations.cancel",
    "list_audit_entries": "audit.list",
    "export_audit_log": "audit.export",
}


@pytest.mark.parametrize("client_class", [ProvenantClient, AsyncProvenantClient])
def test_a_flat_method_is_the_resource_method_under_another_name(client_class: type) -> None:
    client = client_class(base_url="http://127.0.0.1:9", api_key="pk_live_" + "0" * 32)
    for flat, dotted in FLAT_NAMES.items():
        resource, method = dotted.split(".")
        target = getattr(getattr(client, resource), method)
        assert getattr(client, flat) == target, flat
        assert inspect.signature(getattr(client, flat)) == inspect.signature(target)
        assert getattr(client_class, flat).__doc__.startswith(f"``client.{dotted}``")


def test_agents_update_and_archive(client: ProvenantClient) -> None:
    agent = client.agents.create("Helper", "helper", description="Helps", model_family="claude", tags=["a"])
    renamed = client.agents.update(agent["id"], name="Helper 2", tags=["a", "b"])
    assert (renamed["name"], renamed["tags"], renamed["description"]) == ("Helper 2", ["a", "b"], "Helps")
    cleared = client.update_agent(agent["id"], description=None, model_family=None)
    assert (cleared["description"], cleared["modelFamily"], cleared["name"]) == (None, None, "Helper 2")
    assert client.agents.archive(agent["id"]) == {"success": True}
    assert client.get_agent(agent["id"])["status"] == "ARCHIVED"
    assert [a["id"] for a in client.agents.list(status="ARCHIVED")] == [agent["id"]]
    assert client.agents.get_or_create("Helper 3")["name"] == "Helper 3"


def test_an_agent_created_without_a_slug_is_the_one_get_or_create_finds(client: ProvenantClient) -> None:
    created = client.create_agent("Straße Bot")  # the server derives the slug, as get-or-create does
    assert created["slug"] == "strasse-bot"
    assert client.get_or_create_agent("Straße Bot") == created["id"]


def test_sessions_list_update_and_delete(client: ProvenantClient) -> None:
    agent_id = client.get_or_create_agent("Listed")
    other_id = client.get_or_create_agent("Other")
    first = client.sessions.create(agent_id, external_id="first")
    second = client.sessions.create(agent_id, external_id="second")
    client.sessions.create(other_id)
    client.add_turn(first["id"], "USER", "find the needle here")
    assert [s["id"] for s in client.sessions.list(agent_id=agent_id)] == [second["id"], first["id"]]
    assert [s["id"] for s in client.sessions.list(q="NEEDLE")] == [first["id"]]

    ended = client.sessions.update(second["id"], status="COMPLETED", ended_at="2030-01-02T03:04:05Z")
    assert (ended["status"], ended["endedAt"]) == ("COMPLETED", "2030-01-02T03:04:05.000Z")
    assert [s["id"] for s in client.list_sessions(status="COMPLETED")] == [second["id"]]

    assert client.sessions.delete(first["id"]) == {"success": True}
    with pytest.raises(NotFoundError):
        client.get_session(first["id"])


def test_add_turns_stores_a_batch_once_even_when_sent_twice(
    proxy: FlakyProxy, account: Account, client: ProvenantClient
) -> None:
    session = client.create_session(client.get_or_create_agent("Batches"))
    batch = [
        {"role": "USER", "content": "Where is my order?", "clientId": uuid.uuid4().hex, "inputTokens": 7},
        {"role": "ASSISTANT", "content": {"text": "It ships today."}, "clientId": uuid.uuid4().hex},
    ]
    proxy.only = "/turns"
    proxy.script = ["lose"]  # stored, but the answer never comes: the SDK sends it again
    with ProvenantClient(base_url=proxy.url, api_key=account.api_key) as retrying:
        stored = retrying.sessions.add_turns(session["id"], batch)
    assert [turn["clientId"] for turn in stored] == [item["clientId"] for item in batch]
    assert len(proxy.hits_to("POST", "/turns")) == 2
    again = client.add_turns(session["id"], batch)
    assert [turn["id"] for turn in again] == [turn["id"] for turn in stored]
    assert [turn["content"] for turn in client.get_session(session["id"])["turns"]] == [
        "Where is my order?",
        {"text": "It ships today."},
    ]


def test_a_batch_without_client_ids_is_not_sent_twice(
    proxy: FlakyProxy, account: Account, client: ProvenantClient
) -> None:
    session = client.create_session(client.get_or_create_agent("Batches"))
    proxy.only = "/turns"
    proxy.script = ["503"]
    with (
        ProvenantClient(base_url=proxy.url, api_key=account.api_key) as once,
        pytest.raises(InternalServerError) as caught,
    ):
        once.add_turns(session["id"], [{"role": "USER", "content": "no clientId"}])
    assert caught.value.status_code == 503
    assert len(proxy.hits_to("POST", "/turns")) == 1


def test_get_or_create_is_retried_like_a_get(proxy: FlakyProxy, account: Account) -> None:
    proxy.script = ["503"]
    with ProvenantClient(base_url=proxy.url, api_key=account.api_key) as client:
        agent = client.agents.get_or_create("Retried")
    assert agent["name"] == "Retried"
    assert [hit.method for hit in proxy.hits] == ["POST", "POST"]


def test_members_and_invitations(client: ProvenantClient, account: Account) -> None:
    assert [member["email"] for member in client.members.list()] == [account.email]

    invitation = client.invitations.create("someone@example.com", "ADMIN")
    assert invitation["role"] == "ADMIN" and invitation["inviteLink"]
    assert [i["email"] for i in client.list_invitations()] == ["someone@example.com"]
    assert client.invitations.cancel(invitation["id"]) == {"success": True}
    assert client.invitations.list() == []
    assert client.create_invitation("default@example.com")["role"] == "MEMBER"

    key = viewer_key(account)
    viewer = next(member for member in client.list_members() if member["role"] == "VIEWER")
    assert client.members.change_role(viewer["id"], "MEMBER")["role"] == "MEMBER"
    assert client.members.remove(viewer["id"]) == {"success": True}
    with (
        ProvenantClient(base_url=account.base_url, api_key=key) as removed,
        pytest.raises(AuthenticationError) as caught,
    ):
        removed.me()
    assert caught.value.code == "api_key_owner_removed"


def test_audit_list_and_export(client: ProvenantClient) -> None:
    for i in range(3):
        client.create_agent(f"Audited {i}", f"audited-{i}")
    created = client.audit.list(action="agent.create")
    assert [entry["action"] for entry in created] == ["agent.create"] * 3
    assert [entry["after"]["slug"] for entry in created if entry["after"]] == [
        f"audited-{i}" for i in (2, 1, 0)
    ]
    exported = list(client.export_audit_log(action="agent.create"))
    assert sorted(entry["id"] for entry in exported) == sorted(entry["id"] for entry in created)
    since = created[0]["createdAt"]
    assert [entry["id"] for entry in client.list_audit_entries(action="agent.create", since=since)] == [
        created[0]["id"]
    ]


@pytest.mark.anyio
async def test_async_resources(account: Account) -> None:
    async with AsyncProvenantClient(base_url=account.base_url, api_key=account.api_key) as client:
        agent = await client.agents.get_or_create("Async resources")
        updated = await client.agents.update(agent["id"], description="now described")
        assert updated["description"] == "now described"
        session = await client.sessions.create(agent["id"])
        turns = await client.sessions.add_turns(session["id"], [{"role": "USER", "content": "a"}])
        assert [turn["content"] for turn in turns] == ["a"]
        assert [s["id"] async for s in client.sessions.list(agent_id=agent["id"])] == [session["id"]]
        assert [m["email"] for m in await client.members.list()] == [account.email]
        entries = [entry async for entry in client.audit.export(action="agent.update")]
        assert [entry["resourceId"] for entry in entries] == [agent["id"]]
        assert len(await client.api_keys.list()) == 1
