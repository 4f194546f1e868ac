"""Lists that page: the SDK follows ``Link: rel="next"`` for the caller, lazily; list-like use still works.

The server's pages hold 50 items by default (200 for agents), so the organization here has one page and a bit
of each list.
"""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from provenant_sdk import AsyncProvenantClient, PagedList, ProvenantClient

from accounts import Account, new_account
from servers import FlakyProxy

AGENTS = 201
SESSIONS = 51
KEYS = 51  # with the account's own key


@pytest.fixture(scope="module")
def org(server_url: str) -> Account:
    """An organization with a page and a bit of agents, sessions, keys and audit entries (read only)."""
    account = new_account(server_url)
    with ProvenantClient(base_url=account.base_url, api_key=account.api_key) as client:
        agent_ids = [client.create_agent(f"Paged {i}", f"paged-{i}")["id"] for i in range(AGENTS)]
        for i in range(SESSIONS):
            client.create_session(agent_ids[0], external_id=f"paged-{i}")
        for i in range(KEYS - 1):
            client.create_api_key(f"paged-{i}")
    return account


def through(proxy: FlakyProxy, account: Account) -> ProvenantClient:
    return ProvenantClient(base_url=proxy.url, api_key=account.api_key)


@pytest.mark.parametrize(
    ("resource", "path", "count"),
    [
        ("agents", "/api/agents", AGENTS),
        ("sessions", "/api/sessions", SESSIONS),
        ("api_keys", "/api/org/keys", KEYS),
        ("audit", "/api/audit", AGENTS + SESSIONS + KEYS),  # at least: one entry per creation
    ],
)
def test_iterating_a_list_fetches_every_page_once(
    resource: str, path: str, count: int, proxy: FlakyProxy, org: Account
) -> None:
    with through(proxy, org) as client:
        items = list(getattr(client, resource).list())
    ids = [item["id"] for item in items]
    assert len(ids) >= count
    assert len(set(ids)) == len(ids)  # every item once
    if resource != "agents":  # agents come most recently updated first, the others newest first
        created = [item["createdAt"] for item in items]
        assert created == sorted(created, reverse=True)
    pages = proxy.hits_to("GET", path)
    assert len(pages) >= 2
    assert "cursor=" not in pages[0].path
    assert all("cursor=" in page.path for page in pages[1:])


def test_limit_is_the_most_items_in_all_and_no_page_is_larger_than_needed(
    proxy: FlakyProxy, org: Account
) -> None:
    with through(proxy, org) as client:
        assert len(client.agents.list(limit=3)) == 3
        assert len(client.list_agents(limit=AGENTS)) == AGENTS
        assert len(client.sessions.list(limit=SESSIONS + 100)) == SESSIONS
    limits = [hit.path.split("limit=")[1].split("&")[0] for hit in proxy.hits if "limit=" in hit.path]
    assert limits == ["3", "200", "1", str(SESSIONS + 100)]


def test_the_old_list_like_use_still_works(proxy: FlakyProxy, org: Account) -> None:
    with through(proxy, org) as client:
        agents = client.list_agents()
        assert isinstance(agents, PagedList)
        assert len(proxy.hits) == 1  # the first page comes with the call, as when it returned a list
        assert len(agents) == AGENTS
        assert agents[0]["slug"] == f"paged-{AGENTS - 1}"  # most recently updated first
        assert [agent["slug"] for agent in agents[-2:]] == ["paged-1", "paged-0"]
        assert agents == client.list_agents(limit=AGENTS).to_list()
        assert client.list_agents(status="ARCHIVED") == []
        requests_so_far = len(proxy.hits)
        assert len([agent["id"] for agent in agents]) == AGENTS
        assert len(proxy.hits) == requests_so_far  # once fetched whole, kept


def test_stopping_early_fetches_no_more_pages(proxy: FlakyProxy, org: Account) -> None:
    with through(proxy, org) as client:
        first_three = []
        for agent in client.agents.list():
            first_three.append(agent["slug"])
            if len(first_three) == 3:
                break
    assert first_three == [f"paged-{AGENTS - 1 - i}" for i in range(3)]
    assert len(proxy.hits_to("GET", "/api/agents")) == 1


@pytest.mark.anyio
async def test_async_lists_page_with_async_for_and_await(proxy: FlakyProxy, org: Account) -> None:
    async with AsyncProvenantClient(base_url=proxy.url, api_key=org.api_key) as client:
        listed = client.sessions.list()
        assert proxy.hits == []  # nothing is fetched until it is iterated or awaited
        ids = [session["id"] async for session in listed]
        assert len(ids) == SESSIONS == len(set(ids))
        assert len(proxy.hits_to("GET", "/api/sessions")) == 2
        assert [session["id"] for session in await client.list_sessions()] == ids
        assert len(await client.sessions.list(limit=2)) == 2


class _Pages(BaseHTTPRequestHandler):
    """Two pages whose next link names another host, as a server behind a TLS-terminating proxy would."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        if "cursor=" in self.path:
            body: list[dict[str, Any]] = [{"id": "b"}]
            link = None
        else:
            body = [{"id": "a"}]
            link = '<http://internal.invalid:8000/api/agents?status=ACTIVE&cursor=next>; rel="next"'
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if link:
            self.send_header("Link", link)
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def pages_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_only_the_cursor_of_a_next_link_is_taken(pages_server: str) -> None:
    key = "pk_live_" + "1" * 32
    with ProvenantClient(base_url=pages_server, api_key=key, max_retries=0) as client:
        assert [agent["id"] for agent in client.agents.list(status="ACTIVE")] == ["a", "b"]
    assert _Pages.seen == [
        ("/api/agents?status=ACTIVE", f"Bearer {key}"),
        ("/api/agents?status=ACTIVE&cursor=next", f"Bearer {key}"),  # never to internal.invalid
    ]
