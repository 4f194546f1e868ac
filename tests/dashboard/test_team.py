"""Team in Chromium: invite, accept in another browser, roles and removal, and nobody offered a control
the API would refuse them."""

import re

import httpx
from playwright.sync_api import Page, expect

from tests.dashboard.helpers import XSS, assert_no_stray_words, assert_nothing_ran, open_as, stored_token
from tests.factories import PASSWORD, create_key, invite, invite_and_accept, link_token, register, unique


def member_row(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("tbody tr").filter(has=page.locator(".name", has_text=re.compile(f"^{re.escape(name)}$")))


def test_invite_a_viewer_who_then_has_no_write_control(page: Page, second_page: Page, http: httpx.Client) -> None:
    owner = register(http, name="Olivia Owner")
    create_key(http, owner, name="owners-key")
    open_as(page, owner, "/team")
    page.get_by_role("button", name="Invite Member").click()
    email = f"{unique('viewer')}@example.com"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role").select_option("VIEWER")
    page.get_by_role("button", name="Invite", exact=True).click()
    banner = page.locator(".banner-success")
    expect(banner).to_contain_text(email)
    expect(banner.get_by_role("button", name="Copy")).to_be_visible()
    link = banner.locator("code.secret").inner_text()
    assert "/accept-invitation?token=" in link
    pending = page.get_by_role("region", name="Pending invitations")
    expect(pending).to_contain_text(email)

    viewer = second_page
    viewer.goto(link)
    expect(viewer.locator(".auth-card")).to_contain_text("as Viewer")
    viewer.get_by_label("Name").fill("Victor Viewer")
    viewer.get_by_label("Password").fill(PASSWORD)
    viewer.get_by_role("button", name="Create account and join").click()
    expect(viewer).to_have_url(re.compile(r"/agents$"))
    assert stored_token(viewer)
    assert stored_token(page) == owner.token  # two browsers, two people

    nav = viewer.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Team")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit Log")).to_have_count(0)

    nav.get_by_role("link", name="Team").click()
    expect(member_row(viewer, "Olivia Owner")).to_be_visible()
    expect(member_row(viewer, "Victor Viewer")).to_be_visible()
    expect(viewer.get_by_role("button", name="Invite Member")).to_have_count(0)
    expect(viewer.locator("main select")).to_have_count(0)
    expect(viewer.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
    expect(viewer.get_by_role("region", name="Pending invitations")).to_have_count(0)
    assert_no_stray_words(viewer)

    # Keys: a VIEWER may make a (read-only) key of their own, and sees and revokes no one else's.
    nav.get_by_role("link", name="API Keys").click()
    expect(viewer.get_by_text("No keys yet — create one to use the SDK")).to_be_visible()
    expect(viewer.get_by_text("owners-key")).to_have_count(0)
    expect(viewer.get_by_role("button", name=re.compile("^Revoke"))).to_have_count(0)
    expect(viewer.get_by_label("Created by")).to_have_count(0)

    viewer.goto("/audit")
    expect(viewer.locator("main")).to_contain_text("cannot open the Audit Log")

    # The owner's list now shows the new member, and the invitation is no longer pending.
    page.reload()
    expect(member_row(page, "Victor Viewer")).to_be_visible()
    expect(pending).not_to_contain_text(email)


def test_an_admin_is_offered_no_control_over_an_owner(page: Page, http: httpx.Client) -> None:
    owner = register(http, name="Olivia Owner")
    admin = invite_and_accept(http, owner, "ADMIN", name="Adam Admin")
    invite_and_accept(http, owner, "ADMIN", name="Another Admin")
    invite_and_accept(http, owner, "MEMBER", name="Mia Member")
    open_as(page, admin, "/team")

    for name in ("Olivia Owner", "Another Admin", "Adam Admin"):
        expect(member_row(page, name).locator("select")).to_have_count(0)
        expect(member_row(page, name).get_by_role("button")).to_have_count(0)
    role = member_row(page, "Mia Member").locator("select")
    expect(role.locator("option")).to_have_text(["Member", "Viewer"])
    expect(member_row(page, "Mia Member").get_by_role("button", name="Remove Mia Member")).to_be_visible()

    page.get_by_role("button", name="Invite Member").click()
    expect(page.get_by_label("Role", exact=True).locator("option")).to_have_text(["Member", "Viewer"])


def test_owner_changes_a_role_and_removes_a_member(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    member = invite_and_accept(http, owner, "MEMBER", name="Mia Member")
    open_as(page, owner, "/team")
    expect(member_row(page, owner.user["name"]).locator("select")).to_have_count(0)  # not one's own role
    expect(member_row(page, owner.user["name"]).get_by_role("button")).to_have_count(0)  # nor remove oneself

    role = member_row(page, "Mia Member").locator("select")
    expect(role.locator("option")).to_have_text(["Owner", "Admin", "Member", "Viewer"])
    role.select_option("VIEWER")
    expect(role).to_be_enabled()
    members = http.get("/api/org/members", headers=owner.headers).json()
    assert next(m for m in members if m["id"] == member.user_id)["role"] == "VIEWER"

    member_row(page, "Mia Member").get_by_role("button", name="Remove Mia Member").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("loses access at once")
    dialog.get_by_role("button", name="Remove member").click()
    expect(member_row(page, "Mia Member")).to_have_count(0)
    assert http.get("/api/auth/me", headers=member.headers).status_code == 401


def test_cancel_a_pending_invitation(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    invitation = invite(http, owner, role="MEMBER")
    open_as(page, owner, "/team")
    pending = page.get_by_role("region", name="Pending invitations")
    pending.get_by_role("button", name=f"Cancel the invitation of {invitation['email']}").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel invitation").click()
    expect(pending).to_contain_text("No pending invitations.")
    preview = http.get(f"/api/auth/invitations/{link_token(invitation['inviteLink'])}")
    assert preview.status_code == 410


def test_a_member_name_is_text_and_runs_nothing(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    invite_and_accept(http, owner, "MEMBER", name=XSS)
    open_as(page, owner, "/team")
    expect(member_row(page, XSS)).to_be_visible()
    member_row(page, XSS).get_by_role("button", name=f"Remove {XSS}").click()
    expect(page.get_by_role("dialog")).to_contain_text(XSS)
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert_nothing_ran(page)
