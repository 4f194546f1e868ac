"""One slug rule: an agent made with the dashboard's New Agent is the agent the Python SDK's get_or_create_agent
finds, whatever letters, emoji, spaces and punctuation its name holds. The dashboard sends the name alone and the
server derives the slug (provenant.agents.slugs); before, each derived its own and "Straße Bot" became two agents."""

import httpx
from playwright.sync_api import Page, expect
from provenant_sdk import ProvenantClient

from tests.dashboard.helpers import open_as
from tests.factories import create_key, register
from tests.servers import LiveServer

NAMES = [
    "Straße Bot",  # ß: the reported case
    "Crème Brûlée Ünïcode",  # accents
    "Ærø Łódź Þór",  # Latin letters Unicode does not decompose
    "Бот поддержки 2",  # another script
    "日本語 アシスタント",  # no ASCII at all
    "Support Bot 🤖",  # an emoji after words
    "🤖 Robo helper",  # an emoji first
    "Q&A: billing / refunds?",  # punctuation
    "Tabs\tand   many spaces",  # whitespace of several kinds
]


def test_every_agent_made_on_the_page_is_the_one_the_sdk_finds(
    page: Page, http: httpx.Client, server: LiveServer
) -> None:
    owner = register(http)
    open_as(page, owner, "/agents")
    made: dict[str, str] = {}
    for name in NAMES:
        page.get_by_role("button", name="New Agent").first.click()
        form = page.locator("main form")
        form.get_by_label("Name").fill(name)
        form.get_by_role("button", name="Create agent").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Agent: {name}")
        made[name] = page.url.rsplit("/", 1)[-1]
        page.goto("/agents")

    with ProvenantClient(base_url=server.url, api_key=create_key(http, owner)) as sdk:
        found = {name: sdk.get_or_create_agent(name) for name in NAMES}
        agents = list(sdk.list_agents())

    assert found == made
    assert sorted(agent["name"] for agent in agents) == sorted(NAMES)  # one agent each, none made by the SDK
