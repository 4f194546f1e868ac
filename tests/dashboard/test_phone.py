"""The dashboard on a phone: every page at 390 px wide without sideways scrolling of the page, the sidebar a
menu behind a button, a key's Revoke in reach; and axe-core (WCAG 2.0/2.1 A and AA rules) finding nothing on
any page, at 390 px and at 1280 px.

axe-core comes from npm (tests/dashboard/axe/package.json and its lockfile; scripts/test runs `npm ci` there)
and is evaluated in each page as it stands. One organization is seeded for the module, with something in every
list (a tool's turn, a revoked key, a pending invitation, a trust policy), so that each page shows its widest
parts; one browser context a width walks all the pages.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.dashboard.conftest import watch
from tests.dashboard.helpers import TOKEN_KEY, open_as, sign_in
from tests.factories import (
    Account,
    bearer,
    create_key,
    invite,
    invite_and_accept,
    register,
    turn_on_two_factor,
    unique,
)
from tests.servers import LiveServer

AXE = Path(__file__).with_name("axe") / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@dataclass
class Seeded:
    owner: Account
    two_factor_email: str
    agent_id: str
    session_id: str
    invitation_path: str
    reset_path: str


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `npm ci` in tests/dashboard/axe (scripts/test does it)")
    return AXE.read_text()


@pytest.fixture(scope="module")
def seeded(server: LiveServer) -> Iterator[Seeded]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        owner = register(http, name="Olivia Owner")
        member = invite_and_accept(http, owner, "MEMBER", name="Mia Member")
        invitation = invite(http, owner, email=f"{unique('a-rather-long-address')}@example.com")
        reset = http.post(f"/api/org/members/{member.user_id}/password-reset", headers=owner.headers)
        assert reset.status_code == 201, reset.text
        turn_on_two_factor(http, member)

        create_key(http, owner, name="nightly-batch-ingestion")
        leaked = http.post(
            "/api/org/keys", json={"name": "notebook-experiments", "access": "read"}, headers=owner.headers
        )
        assert http.delete(f"/api/org/keys/{leaked.json()['id']}", headers=owner.headers).status_code == 200
        policy = {
            "name": "release evals",
            "issuer": "https://token.actions.githubusercontent.com",
            "audience": "provenant",
            "claims": {"repository": "analytical/engine-agent", "environment": "evals"},
            "access": "read",
        }
        assert http.post("/api/org/trust-policies", json=policy, headers=owner.headers).status_code == 201

        headers = bearer(create_key(http, owner, name="prod-ingestion"))
        agent = http.post(
            "/api/agents/get-or-create",
            json={"name": "Support Triage", "description": "Routes tickets.", "tags": ["prod", "support"]},
            headers=headers,
        ).json()
        session = http.post("/api/sessions", json={"agentId": agent["id"], "tags": ["prod"]}, headers=headers).json()
        for turn in (
            {"role": "USER", "content": "My engine stops at card 42 with a carry error.", "inputTokens": 18},
            {
                "role": "ASSISTANT",
                "content": "Let me look up the ticket history.",
                "toolCalls": [{"name": "lookup_tickets", "arguments": {"customer": "babbage", "limit": 3}}],
            },
            {"role": "TOOL", "content": {"tickets": [{"id": 1832, "topic": "carry lever"}]}},
        ):
            added = http.post(f"/api/sessions/{session['id']}/turns", json=turn, headers=headers)
            assert added.status_code == 201, added.text
        yield Seeded(
            owner=owner,
            two_factor_email=member.email,
            agent_id=agent["id"],
            session_id=session["id"],
            invitation_path=_path(invitation["inviteLink"]),
            reset_path=_path(reset.json()["resetLink"]),
        )


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _check(page: Page, axe_source: str, where: str, failures: list[str]) -> None:
    """The page as it stands: no wider than the window, and nothing axe-core finds."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        failures.append(f"{where} at {width} px: the page is {scroll_width} px wide")
    if page.evaluate("typeof axe") == "undefined":
        page.evaluate(axe_source)
    violations = page.evaluate(
        """async tags => (await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]}))
            .violations
            .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)""",
        WCAG_AA,
    )
    failures.extend(f"{where} at {width} px: {violation}" for violation in violations)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_every_page_fits_the_window_and_axe_finds_nothing(
    browser: Browser, server: LiveServer, seeded: Seeded, axe_source: str, viewport: dict[str, int]
) -> None:
    context = browser.new_context(base_url=server.url, viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = watch(page)
    failures: list[str] = []
    try:
        for where, path in (
            ("Sign in", "/signin"),
            ("Register", "/register"),
            ("Forgot password", "/forgot-password"),
            ("Reset password", seeded.reset_path),
            ("Accept invitation", seeded.invitation_path),
        ):
            page.goto(path)
            expect(page.locator("main h1")).to_be_visible()
            _check(page, axe_source, where, failures)
        page.goto("/signin")
        sign_in(page, seeded.two_factor_email)
        expect(page.get_by_label("Authentication code")).to_be_visible()
        _check(page, axe_source, "Sign in's two-factor code", failures)

        page.evaluate("([key, token]) => localStorage.setItem(key, token)", [TOKEN_KEY, seeded.owner.token])
        for where, path, ready in (
            ("Agents", "/agents", "Support Triage"),
            ("An agent", f"/agents/{seeded.agent_id}", "Routes tickets."),
            ("Sessions", "/sessions", "Support Triage"),
            ("A session", f"/sessions/{seeded.session_id}", "carry lever"),
            ("Audit Log", "/audit", "Olivia Owner"),
            ("Team", "/team", "Mia Member"),
            ("API Keys and Trusted CI", "/keys", "release evals"),
            ("Account", "/account", "Two-factor sign-in"),
        ):
            page.goto(path)
            # What the page loads shows (a list's row, not the filter's option of the same name).
            expect(page.locator("main :is(td, li, dd, h2)").filter(has_text=ready).first).to_be_visible()
            _check(page, axe_source, where, failures)

        page.get_by_role("button", name="Set up two-factor sign-in").click()
        expect(page.locator("img.qr-code")).to_be_visible()
        _check(page, axe_source, "Account's two-factor setup", failures)

        page.goto("/keys")
        page.get_by_role("button", name="All", exact=True).click()
        expect(page.get_by_text("notebook-experiments", exact=True)).to_be_visible()
        _check(page, axe_source, "API Keys, all keys", failures)
        page.get_by_role("button", name="New Key").first.click()
        expect(page.get_by_label("Name", exact=True)).to_be_visible()
        _check(page, axe_source, "New Key", failures)
        page.get_by_role("button", name="Cancel").click()
        page.get_by_role("button", name="Roll prod-ingestion").click()
        expect(page.get_by_role("dialog")).to_be_visible()
        _check(page, axe_source, "Roll's dialog", failures)
        page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

        if viewport is PHONE:
            page.get_by_role("button", name="Menu").click()
            expect(page.get_by_role("navigation", name="Main")).to_be_visible()
            _check(page, axe_source, "The open menu", failures)
    finally:
        context.close()
    assert not failures, "\n".join(failures)
    assert not errors, errors


def test_on_a_phone_the_sidebar_is_a_menu_that_the_keyboard_opens_and_closes(
    browser: Browser, server: LiveServer, seeded: Seeded
) -> None:
    context = browser.new_context(base_url=server.url, viewport=PHONE)
    context.set_default_timeout(5000)
    page = context.new_page()
    errors = watch(page)
    try:
        open_as(page, seeded.owner, "/keys")
        menu = page.get_by_role("button", name="Menu")
        navigation = page.get_by_role("navigation", name="Main")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(navigation).to_be_hidden()
        expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_hidden()

        menu.focus()
        page.keyboard.press("Enter")
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(navigation.get_by_role("link", name="Team")).to_be_in_viewport()
        expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
        page.keyboard.press("Tab")
        page.keyboard.press("Escape")  # from inside the menu: closed, and the focus back on its button
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(navigation).to_be_hidden()
        expect(menu).to_be_focused()

        page.keyboard.press("Space")
        navigation.get_by_role("link", name="Team").click()
        expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()
        expect(menu).to_have_attribute("aria-expanded", "false")  # the page chosen shows without the menu
        expect(navigation).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()
    assert not errors, errors


def test_on_a_phone_revoke_is_in_view_beside_a_wide_row_and_revokes(
    browser: Browser, server: LiveServer, http: httpx.Client
) -> None:
    owner = register(http)
    create_key(http, owner, name="a-key-with-a-long-name-that-leaked-at-night")
    context = browser.new_context(base_url=server.url, viewport=PHONE)
    context.set_default_timeout(5000)
    page = context.new_page()
    errors = watch(page)
    try:
        open_as(page, owner, "/keys")
        revoke = page.get_by_role("button", name="Revoke a-key-with-a-long-name-that-leaked-at-night")
        expect(revoke).to_be_in_viewport()  # not off to the right of a table wider than the phone
        box = revoke.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"], box
        revoke.click()
        page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
        expect(page.get_by_text("No active keys here.")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()
    assert not errors, errors


def test_at_desktop_width_the_sidebar_is_whole_and_has_no_menu_button(page: Page, seeded: Seeded) -> None:
    open_as(page, seeded.owner, "/keys")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Team")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
