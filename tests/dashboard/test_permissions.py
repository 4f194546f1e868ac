"""The dashboard offers what GET /api/auth/me's permissions say, not a copy of the role table of its own.

The server's answer is changed on its way to the page (and only there: the API still decides), so that a
page that read the role instead of the permissions would show what the role alone allows.
"""

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import Page, Route, expect

from tests.dashboard.helpers import open_as
from tests.factories import create_agent, invite_and_accept, register

Permissions = dict[str, Any]


def answer_me_with(page: Page, change: Callable[[Permissions], None]) -> None:
    """Every GET /api/auth/me of this page answered as the server answers, with its permissions changed."""

    def handle(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        change(body["permissions"])
        route.fulfill(response=response, body=json.dumps(body))

    page.route(re.compile(r"/api/auth/me$"), handle)


def test_a_member_is_offered_what_the_permissions_say_not_what_the_role_says(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    member = invite_and_accept(http, owner, "MEMBER", name="Mina Member")
    create_agent(http, member.headers, name="minas-agent")

    def swap(permissions: Permissions) -> None:
        kept = [action for action in permissions["actions"] if action not in ("write", "delete_own")]
        permissions["actions"] = [*kept, "read_audit"]

    answer_me_with(page, swap)
    open_as(page, member, "/agents")
    expect(page.get_by_role("link", name="minas-agent")).to_be_visible()
    expect(page.get_by_role("button", name="New Agent")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Archive "))).to_have_count(0)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit Log")).to_be_visible()


def test_team_offers_the_role_changes_and_removals_the_permissions_list(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    admin = invite_and_accept(http, owner, "ADMIN", name="Ada Admin")
    invite_and_accept(http, owner, "MEMBER", name="Max Member")
    invite_and_accept(http, owner, "VIEWER", name="Val Viewer")

    def narrow(permissions: Permissions) -> None:
        permissions["roleChanges"] = {"VIEWER": ["MEMBER"]}
        permissions["removableRoles"] = ["VIEWER"]
        permissions["passwordResetRoles"] = []

    answer_me_with(page, narrow)
    open_as(page, admin, "/team")
    rows = page.locator("tbody tr")
    viewer = rows.filter(has_text="Val Viewer")
    member = rows.filter(has_text="Max Member")
    expect(viewer.get_by_label("Role of Val Viewer").locator("option")).to_have_text(["Member", "Viewer"])
    expect(member.get_by_label("Role of Max Member")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Remove Val Viewer")).to_be_visible()
    expect(member.get_by_role("button", name="Remove Max Member")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Reset password"))).to_have_count(0)
    expect(rows.filter(has_text="Ada Admin").get_by_role("button")).to_have_count(0)  # never one's own row
