"""Sign in, Register, Sign out, the end of a session, deep links, and Accept invitation, in Chromium."""

import re
from datetime import UTC, datetime, timedelta

import httpx
import jwt
from playwright.sync_api import Page, expect
from sqlalchemy import update

from provenant.db import Database
from provenant.models import Invitation
from tests.dashboard.helpers import (
    XSS,
    assert_no_stray_words,
    assert_nothing_ran,
    open_as,
    open_settled_keys_as,
    open_with_token,
    register_in_page,
    sign_in,
    stored_token,
)
from tests.factories import (
    PASSWORD,
    accept,
    invite,
    link_token,
    login,
    register,
    totp_code,
    turn_on_two_factor,
    unique,
)
from tests.servers import LiveServer

SESSION_ENDED = "Your session has ended"


def test_register_derives_the_slug_and_signs_in(page: Page, http: httpx.Client) -> None:
    page.goto("/register")
    page.get_by_label("Organization").fill("Ünïted Widgets & Co.")
    expect(page.get_by_label("Slug")).to_have_value("united-widgets-co")
    page.get_by_label("Slug").fill("edited-by-hand")
    page.get_by_label("Organization").fill("Something Else")
    expect(page.get_by_label("Slug")).to_have_value("edited-by-hand")

    email = register_in_page(page, name="Ada Lovelace", org="Analytical Engines")
    token = stored_token(page)
    assert token
    me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["email"] == email and me["role"] == "OWNER"
    sidebar = page.locator(".sidebar")
    expect(sidebar).to_contain_text("Ada Lovelace")
    expect(sidebar).to_contain_text("Analytical Engines")
    expect(sidebar).to_contain_text("Owner")
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Agents", "Sessions", "API Keys", "Team", "Audit Log"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="API Keys")).to_have_attribute("aria-current", "page")


def test_a_taken_slug_is_said_beside_the_form(page: Page, http: httpx.Client) -> None:
    taken = register(http).org["slug"]
    page.goto("/register")
    page.get_by_label("Name").fill("Someone")
    page.get_by_label("Email").fill(f"{unique('x')}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organization").fill("Taken")
    page.get_by_label("Slug").fill(taken)
    page.get_by_role("button", name="Register").click()
    expect(page.locator("form .form-error")).to_contain_text("slug is taken")
    assert stored_token(page) is None
    expect(page).to_have_url(re.compile(r"/register$"))


def test_sign_out_clears_the_token_and_sign_in_returns(page: Page, http: httpx.Client) -> None:
    registered = register(http)
    email = registered.email
    open_settled_keys_as(page, registered)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    expect(page.get_by_role("status")).to_contain_text("signed out")
    assert stored_token(page) is None
    assert page.evaluate("() => Object.keys(localStorage).length") == 0
    # Sign out called POST /api/auth/logout: the server wrote its audit entry.
    owner = login(http, email)
    actions = [entry["action"] for entry in http.get("/api/audit", headers=owner.headers).json()]
    assert "auth.logout" in actions

    page.goto("/team")  # a deep link while signed out waits behind Sign in
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fteam$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_no_stray_words(page)
    sign_in(page, email, "wrong password")
    expect(page.locator("form .form-error")).to_contain_text("Invalid email or password")
    assert stored_token(page) is None
    sign_in(page, email)
    expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/team$"))
    assert stored_token(page)


def test_a_garbage_token_leads_back_to_sign_in_with_the_message(page: Page) -> None:
    open_with_token(page, "not-a-jwt", "/keys")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fkeys$"))
    expect(page.get_by_role("status")).to_contain_text(SESSION_ENDED)
    assert stored_token(page) is None


def test_an_expired_token_leads_back_to_sign_in_with_the_message(
    page: Page, http: httpx.Client, server: LiveServer
) -> None:
    owner = register(http)
    secret = (server.data_dir / "jwt-secret").read_text().strip()
    issued = datetime.now(UTC) - timedelta(days=8)
    expired = jwt.encode(
        {"sub": owner.user_id, "iat": issued, "exp": issued + timedelta(days=7), "jti": "old", "gen": 0},
        secret,
        algorithm="HS256",
    )
    assert http.get("/api/auth/me", headers={"Authorization": f"Bearer {expired}"}).json()["code"] == "token_expired"
    open_with_token(page, expired, "/team")
    expect(page.get_by_role("status")).to_contain_text(SESSION_ENDED)
    assert stored_token(page) is None


def test_a_session_ending_while_the_page_is_open_returns_to_sign_in(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    open_as(page, owner, "/keys")
    expect(page.get_by_role("heading", name="API Keys", level=1)).to_be_visible()
    page.evaluate("() => localStorage.setItem('provenant.token', 'revoked-meanwhile')")
    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("status")).to_contain_text(SESSION_ENDED)
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fteam$"))
    assert stored_token(page) is None


def test_deep_links_reload_and_history(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    open_as(page, owner, "/team")
    expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()
    page.get_by_role("link", name="API Keys").click()
    expect(page.get_by_role("heading", name="API Keys", level=1)).to_be_visible()
    expect(page).to_have_title("API Keys · Provenant")
    page.go_back()
    expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/agents$"))
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    page.goto("/signin")  # already signed in: nothing to do there
    expect(page).to_have_url(re.compile(r"/agents$"))


def test_keyboard_reaches_the_sidebar_with_a_visible_focus(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    open_as(page, owner, "/keys")
    expect(page.get_by_role("heading", name="API Keys", level=1)).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text("Agents")
    outline = focused.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline not in ("none", "")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/agents$"))


# ---- Accept invitation -------------------------------------------------------------------------


def test_accepting_as_a_new_account(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    invitation = invite(http, owner, role="MEMBER")
    page.goto(invitation["inviteLink"])
    expect(page.locator(".auth-card")).to_contain_text(f"join {owner.org['name']} as Member")
    expect(page.get_by_label("Email")).to_have_value(invitation["email"])
    page.get_by_label("Name").fill(XSS)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account and join").click()
    expect(page).to_have_url(re.compile(r"/agents$"))
    expect(page.locator(".sidebar .user-name")).to_have_text(XSS)
    expect(page.locator(".sidebar")).to_contain_text("Member")
    assert_nothing_ran(page)
    assert page.locator(".sidebar img").count() == 0


def test_accepting_with_an_existing_account_asks_only_its_password(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    elsewhere = register(http)
    person = invite(http, elsewhere, role="MEMBER")  # the person first belongs to another org
    assert accept(http, link_token(person["inviteLink"]), name="Grace").status_code == 201
    invitation = invite(http, owner, email=person["email"], role="VIEWER")

    page.goto(invitation["inviteLink"])
    expect(page.locator(".auth-card")).to_contain_text("as Viewer")
    expect(page.get_by_label("Name")).to_have_count(0)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Join organization").click()
    expect(page.locator("form .form-error")).to_contain_text("not its password")
    assert stored_token(page) is None
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Join organization").click()
    expect(page).to_have_url(re.compile(r"/agents$"))
    expect(page.locator(".sidebar")).to_contain_text(owner.org["name"])


def test_accepting_with_an_account_that_signs_in_with_two_factors_asks_for_its_code(
    page: Page, http: httpx.Client
) -> None:
    owner = register(http)
    elsewhere = register(http)
    person = invite(http, elsewhere, role="MEMBER")
    assert accept(http, link_token(person["inviteLink"]), name="Grace").status_code == 201
    secret = turn_on_two_factor(http, login(http, person["email"])).secret
    invitation = invite(http, owner, email=person["email"], role="VIEWER")

    page.goto(invitation["inviteLink"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Join organization").click()
    code = page.get_by_label("Authentication code")  # asked for only once the password was right
    expect(code).to_be_focused()
    code.fill("000000" if totp_code(secret, steps=1) != "000000" else "111111")
    page.get_by_role("button", name="Join organization").click()
    expect(page.locator("form .form-error")).to_be_visible()
    assert stored_token(page) is None
    code.fill(totp_code(secret, steps=1))
    page.get_by_role("button", name="Join organization").click()
    expect(page).to_have_url(re.compile(r"/agents$"))
    expect(page.locator(".sidebar")).to_contain_text(owner.org["name"])


def test_used_cancelled_expired_and_unknown_links_say_so(
    page: Page, http: httpx.Client, server_database: Database
) -> None:
    owner = register(http)
    used = invite(http, owner)
    assert accept(http, link_token(used["inviteLink"])).status_code == 201
    cancelled = invite(http, owner)
    assert http.delete(f"/api/org/invitations/{cancelled['id']}", headers=owner.headers).status_code == 200
    expired = invite(http, owner)
    with server_database.transaction() as session:
        session.execute(
            update(Invitation)
            .where(Invitation.id == expired["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    cases = [
        (used["inviteLink"], "already been used"),
        (cancelled["inviteLink"], "was cancelled"),
        (expired["inviteLink"], "has expired"),
        ("/accept-invitation?token=nonsense", "not valid"),
        ("/accept-invitation", "incomplete"),
    ]
    for link, words in cases:
        page.goto(link)
        expect(page.locator(".banner")).to_contain_text(words)
        expect(page.get_by_role("button")).to_have_count(0)
