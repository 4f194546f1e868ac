"""Agents, Sessions and the Audit Log in Chromium: what the SDK sent, read as a conversation; who may create
and archive agents; the filters; the NDJSON export; API values as text."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from provenant_sdk import ProvenantClient

from tests.dashboard.helpers import XSS, assert_no_stray_words, assert_nothing_ran, open_as
from tests.factories import Account, create_agent, create_key, invite_and_accept, register
from tests.servers import LiveServer

ARCHIVE = re.compile(r"^Archive( |$)")  # the Archive buttons, not the Archived filter


def rows(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("main tbody tr")


def agent_row(page: Page, name: str):  # type: ignore[no-untyped-def]
    return rows(page).filter(has=page.locator("a.name", has_text=re.compile(f"^{re.escape(name)}$")))


def session_with_turns(
    http: httpx.Client,
    account: Account,
    agent_id: str,
    turns: list[dict[str, Any]],
    *,
    external_id: str | None = None,
    end: str | None = "COMPLETED",
) -> str:
    body: dict[str, Any] = {"agentId": agent_id}
    if external_id:
        body["externalId"] = external_id
    created = http.post("/api/sessions", json=body, headers=account.headers)
    assert created.status_code == 201, created.text
    session_id = str(created.json()["id"])
    for turn in turns:
        added = http.post(f"/api/sessions/{session_id}/turns", json=turn, headers=account.headers)
        assert added.status_code == 201, added.text
    if end:
        ended = http.post(f"/api/sessions/{session_id}/end", json={"status": end}, headers=account.headers)
        assert ended.status_code == 200, ended.text
    return session_id


def audit_entries(http: httpx.Client, account: Account, **query: str) -> list[dict[str, Any]]:
    response = http.get("/api/audit", params={"limit": "200", **query}, headers=account.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


# ---- Sessions -------------------------------------------------------------------------------------


def test_a_session_sent_with_the_python_sdk_reads_as_its_conversation(
    page: Page, http: httpx.Client, server: LiveServer
) -> None:
    owner = register(http, name="Ada Lovelace")
    open_as(page, owner, "/sessions")
    empty = page.locator(".sdk-empty")
    expect(empty).to_contain_text("No sessions yet — send one with the SDK")
    expect(empty.locator("pre")).to_contain_text('api_key=os.environ["PROVENANT_API_KEY"]')
    expect(empty).to_contain_text(server.url)  # the PROVENANT_URL to set

    with ProvenantClient(base_url=server.url, api_key=create_key(http, owner, name="laptop")) as client:
        agent_id = client.get_or_create_agent("Support bot")
        with client.session(agent_id, external_id="conv-42", metadata={"channel": "email"}) as session:
            client.add_turn(session["id"], "SYSTEM", "You answer questions about orders.")
            client.add_turn(session["id"], "USER", "Where is my order?", input_tokens=7)
            client.add_turn(
                session["id"],
                "ASSISTANT",
                "Let me look it up.",
                tool_calls=[
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "find_order", "arguments": json.dumps({"order": 42})},
                    }
                ],
                latency_ms=840,
                output_tokens=5,
            )
            client.add_turn(session["id"], "TOOL", {"order": 42, "status": "shipped"})
            client.add_turn(session["id"], "ASSISTANT", "It ships today.", latency_ms=1200, output_tokens=4)

    page.reload()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Support bot")
    expect(rows(page).first).to_contain_text("Completed")
    page.get_by_role("link", name="conv-42").click()
    expect(page).to_have_url(re.compile(rf"/sessions/{session['id']}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Session: conv-42")

    turns = page.locator("ol.conversation > li")
    expect(turns).to_have_count(5)
    assert turns.evaluate_all("items => items.map(item => item.dataset.role)") == [
        "SYSTEM",
        "USER",
        "ASSISTANT",
        "TOOL",
        "ASSISTANT",
    ]
    assert [text.strip() for text in turns.locator(".turn-role").all_text_contents()] == [
        "System",
        "User",
        "Assistant",
        "Tool",
        "Assistant",
    ]
    # Four roles, four looks.
    accents = turns.evaluate_all("items => items.map(item => getComputedStyle(item).borderLeftColor)")
    assert len(set(accents[:4])) == 4, accents
    expect(turns.nth(1)).to_contain_text("Where is my order?")
    expect(turns.nth(1)).to_contain_text("7 tokens in")
    expect(turns.nth(2)).to_contain_text("find_order")
    expect(turns.nth(2).locator(".tool-call pre")).to_have_text('{\n  "order": 42\n}')  # arguments pretty-printed
    expect(turns.nth(2)).to_contain_text("5 tokens out")
    expect(turns.nth(2)).to_contain_text("840 ms")
    expect(turns.nth(3).locator("pre.is-json")).to_have_text('{\n  "order": 42,\n  "status": "shipped"\n}')
    expect(turns.nth(4)).to_contain_text("It ships today.")
    expect(turns.nth(4)).to_contain_text("1.20 s")

    summary = page.get_by_role("region", name="Summary")
    expect(summary).to_contain_text("Completed")
    expect(summary.get_by_role("link", name="Support bot")).to_have_attribute("href", f"/agents/{agent_id}")
    expect(summary).to_contain_text("16 (7 in · 9 out)")  # tokens: the turns' sum, the session sent no total
    expect(summary).to_contain_text("2.04 s")
    expect(page.get_by_role("region", name="Metadata")).to_contain_text("channel")
    assert_no_stray_words(page)

    # A deep link and a reload land on the same conversation.
    page.reload()
    expect(turns).to_have_count(5)
    expect(turns.nth(4)).to_contain_text("It ships today.")


def test_long_json_content_is_collapsed_with_a_toggle(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    agent = create_agent(http, owner.headers)
    items = [{"sku": f"SKU-{n}", "quantity": n} for n in range(30)]
    session_id = session_with_turns(http, owner, agent["id"], [{"role": "TOOL", "content": {"items": items}}])
    open_as(page, owner, f"/sessions/{session_id}")
    block = page.locator("ol.conversation pre.is-json")
    expect(block).to_have_class(re.compile("is-collapsed"))
    collapsed = block.bounding_box()
    toggle = page.get_by_role("button", name=re.compile(r"^Show all \d+ lines$"))
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(block).not_to_have_class(re.compile("is-collapsed"))
    expect(page.get_by_role("button", name="Show less")).to_have_attribute("aria-expanded", "true")
    assert collapsed and (expanded := block.bounding_box()) and expanded["height"] > collapsed["height"] * 2
    expect(block).to_contain_text('"sku": "SKU-29"')


def test_session_filters_by_agent_status_and_text_and_keep_them_on_reload(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    billing = create_agent(http, owner.headers, name="Billing")
    shipping = create_agent(http, owner.headers, name="Shipping")
    session_with_turns(
        http, owner, billing["id"], [{"role": "USER", "content": "I want a refund"}], external_id="refund-1"
    )
    session_with_turns(
        http,
        owner,
        billing["id"],
        [{"role": "USER", "content": "Invoice copy please"}],
        external_id="invoice-1",
        end="FAILED",
    )
    session_with_turns(
        http,
        owner,
        shipping["id"],
        [{"role": "USER", "content": "Where is my REFUND parcel?"}],
        external_id="parcel-1",
        end=None,
    )
    open_as(page, owner, "/sessions")
    names = page.locator("main tbody a.name")
    expect(names).to_have_text(["parcel-1", "invoice-1", "refund-1"])  # newest first

    page.get_by_label("Agent", exact=True).select_option(label="Billing")
    expect(names).to_have_text(["invoice-1", "refund-1"])
    page.get_by_label("Status", exact=True).select_option(label="Failed")
    expect(names).to_have_text(["invoice-1"])
    page.get_by_label("Status", exact=True).select_option(label="Any status")
    page.get_by_label("Search").fill("refund")
    page.get_by_label("Search").press("Enter")
    expect(names).to_have_text(["refund-1"])
    expect(page).to_have_url(re.compile(rf"agentId={billing['id']}"))

    page.reload()
    expect(page.get_by_label("Search")).to_have_value("refund")
    expect(page.get_by_label("Agent", exact=True)).to_have_value(billing["id"])
    expect(names).to_have_text(["refund-1"])

    page.get_by_label("Search").fill("no such words")
    page.get_by_label("Search").press("Enter")
    expect(page.get_by_text("No sessions match these filters.")).to_be_visible()
    page.get_by_role("button", name="Clear filters").first.click()
    expect(names).to_have_text(["parcel-1", "invoice-1", "refund-1"])
    expect(page).to_have_url(re.compile(r"/sessions$"))


# ---- Agents ---------------------------------------------------------------------------------------


def test_new_agent_sends_no_slug_and_says_a_taken_name_beside_the_form(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    create_agent(http, owner.headers, name="taken")
    open_as(page, owner, "/agents")
    page.get_by_role("button", name="New Agent").first.click()
    form = page.locator("main form")
    expect(form.get_by_label("Name")).to_be_visible()
    expect(form.get_by_label("Slug")).to_have_count(0)  # the server alone derives it
    form.get_by_label("Name").fill("Taken")
    form.get_by_role("button", name="Create agent").click()
    expect(form.get_by_role("alert")).to_contain_text("already exists")
    expect(page).to_have_url(re.compile(r"/agents$"))

    form.get_by_label("Name").fill("Billing Assistant (EU)")
    form.get_by_label("Description").fill("Answers invoice questions.")
    form.get_by_label("Tags").fill("billing, prod, billing")
    form.get_by_label("Model family").fill("claude")
    form.get_by_role("button", name="Create agent").click()
    expect(page).to_have_url(re.compile(r"/agents/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Agent: Billing Assistant (EU)")
    details = page.get_by_role("region", name="Details")
    expect(details.locator(".tag")).to_have_text(["billing", "prod"])
    expect(details).to_contain_text("claude")
    expect(details).to_contain_text("Answers invoice questions.")
    expect(page.locator(".sdk-empty")).to_contain_text('get_or_create_agent("Billing Assistant (EU)")')
    created = http.get(f"/api/agents/{page.url.rsplit('/', 1)[-1]}", headers=owner.headers).json()
    expect(page.locator(".agent-slug")).to_have_text(created["slug"])  # the slug the server gave it


def test_a_viewer_is_offered_neither_new_agent_nor_archive(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    agent = create_agent(http, owner.headers, name="owned-by-owner")
    viewer = invite_and_accept(http, owner, "VIEWER", name="Vera Viewer")
    open_as(page, viewer, "/agents")
    expect(agent_row(page, "owned-by-owner")).to_be_visible()
    expect(page.get_by_role("button", name="New Agent")).to_have_count(0)
    expect(page.get_by_role("button", name=ARCHIVE)).to_have_count(0)
    page.goto(f"/agents/{agent['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agent: owned-by-owner")
    expect(page.get_by_role("button", name=ARCHIVE)).to_have_count(0)
    assert_no_stray_words(page)


def test_a_member_archives_their_own_agents_only(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    create_agent(http, owner.headers, name="owners-agent")
    member = invite_and_accept(http, owner, "MEMBER", name="Mia Member")
    mine = create_agent(http, member.headers, name="mias-agent")
    open_as(page, member, "/agents")
    expect(page.get_by_role("button", name="New Agent")).to_be_visible()
    expect(agent_row(page, "owners-agent")).to_be_visible()
    expect(agent_row(page, "owners-agent").get_by_role("button", name=ARCHIVE)).to_have_count(0)
    archive = agent_row(page, "mias-agent").get_by_role("button", name="Archive mias-agent")

    archive.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Archive “mias-agent”?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(agent_row(page, "mias-agent")).to_be_visible()

    archive.click()
    page.get_by_role("dialog").get_by_role("button", name="Archive agent").click()
    expect(agent_row(page, "mias-agent")).to_have_count(0)
    assert http.get(f"/api/agents/{mine['id']}", headers=member.headers).json()["status"] == "ARCHIVED"
    page.get_by_role("button", name="Archived", exact=True).click()
    expect(agent_row(page, "mias-agent")).to_contain_text("Archived")
    expect(page).to_have_url(re.compile(r"/agents\?status=ARCHIVED$"))

    # The owner may archive anyone's agent.
    page.evaluate("token => localStorage.setItem('provenant.token', token)", owner.token)
    page.goto("/agents")
    expect(agent_row(page, "owners-agent").get_by_role("button", name="Archive owners-agent")).to_be_visible()


def test_an_agent_page_lists_its_recent_sessions(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    agent = create_agent(http, owner.headers, name="Support")
    other = create_agent(http, owner.headers, name="Other")
    first = session_with_turns(http, owner, agent["id"], [{"role": "USER", "content": "hi"}], external_id="first")
    session_with_turns(http, owner, other["id"], [{"role": "USER", "content": "hi"}], external_id="elsewhere")
    session_with_turns(http, owner, agent["id"], [{"role": "USER", "content": "hi"}], external_id="second")
    open_as(page, owner, "/agents")
    page.get_by_role("link", name="Support", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/agents/{agent['id']}$"))
    recent = page.get_by_role("region", name="Recent sessions")
    expect(recent.locator("tbody a.name")).to_have_text(["second", "first"])
    recent.get_by_role("link", name="first").click()
    expect(page).to_have_url(re.compile(rf"/sessions/{first}$"))
    page.go_back()
    recent.get_by_role("link", name="All sessions of this agent").click()
    expect(page.locator("main tbody a.name")).to_have_text(["second", "first"])
    expect(page.get_by_label("Agent", exact=True)).to_have_value(agent["id"])


# ---- Audit Log ------------------------------------------------------------------------------------


def test_audit_filters_narrow_the_list_and_export_downloads_exactly_those_entries(
    page: Page, http: httpx.Client, tmp_path: Path
) -> None:
    owner = register(http, name="Olivia Owner")
    member = invite_and_accept(http, owner, "MEMBER", name="Mia Member")
    for name in ("alpha", "beta"):
        create_agent(http, owner.headers, name=name)
    create_agent(http, member.headers, name="gamma")
    create_key(http, owner, name="ci")
    open_as(page, owner, "/audit")
    entries = page.locator("main tbody tr")
    every = audit_entries(http, owner)
    expect(entries).to_have_count(len(every))
    assert entries.evaluate_all("rows => rows.map(row => row.dataset.entryId)") == [e["id"] for e in every]

    page.get_by_label("Action", exact=True).select_option("agent.create")
    expect(entries).to_have_count(3)
    page.get_by_label("Member", exact=True).select_option(member.user_id)
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Mia Member")
    expect(entries.first).to_contain_text("gamma")  # the created agent's name, from `after`

    page.get_by_label("Member", exact=True).select_option("")
    page.get_by_label("Action", exact=True).select_option("")
    page.get_by_label("Resource", exact=True).select_option("api_key")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("apikey.create")

    page.get_by_label("Resource", exact=True).select_option("agent")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export").click()
    expect(page.get_by_role("status").filter(has_text="Exported")).to_have_text("Exported 3 entries")
    file = tmp_path / "audit.ndjson"
    download_info.value.save_as(file)
    assert download_info.value.suggested_filename.endswith(".ndjson")
    exported = [json.loads(line) for line in file.read_text().splitlines()]
    assert exported == audit_entries(http, owner, resourceType="agent")
    assert [entry["id"] for entry in exported] == entries.evaluate_all("rows => rows.map(row => row.dataset.entryId)")
    assert {entry["action"] for entry in exported} == {"agent.create"}

    # Filters live in the address: a reload keeps them.
    page.reload()
    expect(page.get_by_label("Resource", exact=True)).to_have_value("agent")
    expect(entries).to_have_count(3)

    # A date range: today holds them all; from tomorrow, nothing.
    today = datetime.now(UTC).date()
    page.get_by_label("From", exact=True).fill(today.isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    expect(entries).to_have_count(3)
    page.get_by_label("From", exact=True).fill((today + timedelta(days=1)).isoformat())
    page.get_by_label("To", exact=True).fill((today + timedelta(days=2)).isoformat())
    expect(page.get_by_text("No entries match these filters.")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export").click()
    download_info.value.save_as(file)
    assert file.read_text() == ""
    page.get_by_label("From", exact=True).fill((today + timedelta(days=3)).isoformat())
    expect(page.get_by_role("alert")).to_contain_text("From is after To")


def test_audit_shows_before_and_after_as_a_readable_diff(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    agent = create_agent(http, owner.headers, name="support")
    changed = http.patch(
        f"/api/agents/{agent['id']}", json={"description": "Now with a description"}, headers=owner.headers
    )
    assert changed.status_code == 200, changed.text
    open_as(page, owner, "/audit?action=agent.update")
    entry = page.locator("main tbody tr")
    expect(entry).to_have_count(1)
    diff = entry.locator("dl.diff")
    expect(diff.locator(".diff-row")).to_have_count(1)  # only the field that changed
    expect(diff).to_contain_text("description: empty → Now with a description")
    expect(entry.get_by_role("link", name=agent["id"][:8] + "…")).to_have_attribute("href", f"/agents/{agent['id']}")
    assert "{" not in diff.inner_text()  # not a JSON dump
    assert_no_stray_words(page)


# ---- values as text, deep links -------------------------------------------------------------------


def test_xss_in_an_agent_a_turn_and_an_audit_entry_shows_as_text(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    created = http.post(
        "/api/agents",
        json={"name": XSS, "slug": "probe", "description": XSS, "tags": [XSS], "modelFamily": XSS},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    agent = created.json()
    session_id = session_with_turns(
        http,
        owner,
        agent["id"],
        [
            {"role": "USER", "content": XSS, "metadata": {XSS: XSS}},
            {"role": "ASSISTANT", "content": {"html": XSS}, "toolCalls": [{"name": XSS, "arguments": XSS}]},
        ],
        external_id=XSS,
    )
    visits = [
        ("/agents", agent_row(page, XSS)),
        (f"/agents/{agent['id']}", page.get_by_role("heading", level=1)),
        ("/sessions", page.locator("main tbody a.name")),
        (f"/sessions/{session_id}", page.locator("ol.conversation > li").first),
        ("/audit?action=agent.create", page.locator("main tbody tr")),
    ]
    for path, holder in visits:
        open_as(page, owner, path)
        expect(holder).to_contain_text(XSS)
        assert_nothing_ran(page)
    page.goto(f"/sessions/{session_id}")
    expect(page.locator(".tool-name")).to_have_text(XSS)
    expect(page.locator("ol.conversation")).to_contain_text(f'"html": "{XSS}"')
    assert page.locator("img[src='x']").count() == 0
    assert_nothing_ran(page)


def test_deep_links_and_reloads_land_on_the_page(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    agent = create_agent(http, owner.headers, name="deep")
    session_id = session_with_turns(http, owner, agent["id"], [{"role": "USER", "content": "deep hello"}])
    open_as(page, owner, f"/agents/{agent['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agent: deep")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agent: deep")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Agents")).to_have_attribute(
        "aria-current", "page"
    )

    page.goto(f"/sessions/{session_id}")
    expect(page.locator("ol.conversation")).to_contain_text("deep hello")
    page.reload()
    expect(page.locator("ol.conversation")).to_contain_text("deep hello")

    page.goto("/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit Log")
    page.reload()
    expect(page.locator("main tbody tr").first).to_be_visible()

    page.goto("/sessions/00000000-0000-0000-0000-000000000000")
    expect(page.get_by_role("heading", level=1)).to_have_text("Session not found")
    page.goto("/agents/00000000-0000-0000-0000-000000000000")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agent not found")


def test_signed_out_deep_link_to_a_session_returns_there_after_sign_in(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    agent = create_agent(http, owner.headers)
    session_id = session_with_turns(http, owner, agent["id"], [{"role": "USER", "content": "after sign-in"}])
    page.goto(f"/sessions/{session_id}")
    expect(page).to_have_url(re.compile(r"/signin\?next="))
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(owner.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/sessions/{session_id}$"))
    expect(page.locator("ol.conversation")).to_contain_text("after sign-in")
