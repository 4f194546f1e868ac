"""Lists that page: the SDK follows ``Link: rel="next"`` for the caller, lazily; list-like use still works."""

import json
import math
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from provenant_sdk import AsyncProvenantClient, PagedList, ProvenantClient

from accounts import Account
from servers import FlakyProxy


def _make_agents(client: ProvenantClient) -> None:
    for i in range(5):
        client.create_agent(f"Paged {i}", f"paged-{i}")


def _make_sessions(client: ProvenantClient) -> None:
    agent_id = client.get_or_create_agent("Paged sessions")
    for i in range(5):
        client.create_session(agent_id, external_id=f"paged-{i}")


def _make_keys(client: ProvenantClient) -> None:
    for i in range(5):
        client.create_api_key(f"paged-{i}")


LISTS: dict[str, tuple[str, Callable[[ProvenantClient], None]]] = {
    "agents": ("/api/agents", _make_agents),
    "sessions": ("/api/sessions", _make_sessions),
    "api_keys": ("/api/org/keys", _make_keys),
    "audit": ("/api/audit", _make_agents),  # each creation is an audit entry
}


@pytest.mark.parametrize("resource", LISTS)
def test_iterating_a_list_fetches_every_page_once(
    resource: str, proxy: FlakyProxy, account: Account, client: ProvenantClient
) -> None:
    path, make = LISTS[resource]
    make(client)
    everything = [item["id"] for item in getattr(client, resource).list(limit=200)]
    assert len(everything) >= 5

    with ProvenantClient(base_url=proxy.url, api_key=account.api_key) as paging:
        paged = [item["id"] for item in getattr(paging, resource).list(limit=2)]

    assert paged == everything
    pages = proxy.hits_to("GET", path)
    assert len(pages) == math.ceil(len(everything) / 2)
    assert all("limit=2" in page.path for page in pages)
    assert all("cursor=" in page.path for page in pages[1:])


def test_the_old_list_like_use_still_works(
    proxy: FlakyProxy, account: Account, client: ProvenantClient
) -> None:
    _make_agents(client)
    with ProvenantClient(base_url=proxy.url, api_key=account.api_key) as paging:
        agents = paging.list_agents(limit=2)
        assert isinstance(agents, PagedList)
        assert len(agents) == 5
        assert agents[0]["slug"] == "paged-4"  # most recently updated first
        assert [agent["slug"] for agent in agents[-2:]] == ["paged-1", "paged-0"]
        assert agents == paging.list_agents(limit=3).to_list()
        assert paging.list_agents(status="ARCHIVED") == []
        requests_so_far = len(proxy.hits)
        assert [agent["slug"] for agent in agents] == [f"paged-{i}" for i in reversed(range(5))]
        assert len(proxy.hits) == requests_so_far  # once fetched whole, kept


def test_stopping_early_fetches_no_more_pages(
    proxy: FlakyProxy, account: Account, client: ProvenantClient
) -> None:
    _make_agents(client)
    with ProvenantClient(base_url=proxy.url, api_key=account.api_key) as paging:
        first_three = []
        for agent in paging.agents.list(limit=2):
            first_three.append(agent["slug"])
            if len(first_three) == 3:
                break
    assert first_three == ["paged-4", "paged-3", "paged-2"]
    assert len(proxy.hits_to("GET", "/api/agents")) == 2


@pytest.mark.anyio
async def test_async_lists_page_with_async_for_and_await(
    proxy: FlakyProxy, account: Account, client: ProvenantClient
) -> None:
    _make_agents(client)
    async with AsyncProvenantClient(base_url=proxy.url, api_key=account.api_key) as paging:
        slugs = [agent["slug"] async for agent in paging.agents.list(limit=2)]
        assert slugs == [f"paged-{i}" for i in reversed(range(5))]
        assert len(proxy.hits_to("GET", "/api/agents")) == 3
        listed = await paging.list_agents(limit=2)
        assert [agent["slug"] for agent in listed] == slugs


class _Pages(BaseHTTPRequestHandler):
    """Two pages whose next link names another host, as a misconfigured proxy in front of the server might."""

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
            link = '<http://elsewhere.invalid:1/api/agents?limit=1&cursor=next>; rel="next"'
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


def test_a_next_link_is_followed_against_the_clients_own_url(pages_server: str) -> None:
    key = "pk_live_" + "1" * 32
    with ProvenantClient(base_url=pages_server, api_key=key, max_retries=0) as client:
        assert [agent["id"] for agent in client.agents.list(limit=1)] == ["a", "b"]
    assert _Pages.seen == [
        ("/api/agents?limit=1", f"Bearer {key}"),
        ("/api/agents?limit=1&cursor=next", f"Bearer {key}"),  # the key never went to elsewhere.invalid
    ]
