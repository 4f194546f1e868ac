"""The account menu in Chromium: Sign out everywhere ends every browser's session; Change password
keeps this browser signed in with the new token and the old password stops working."""

import re

import httpx
from playwright.sync_api import Page, expect

from tests.dashboard.helpers import open_settled_keys_as, stored_token
from tests.factories import PASSWORD, audit_entries, login, register

SESSION_ENDED = "Your session has ended"
NEW_PASSWORD = "a much better passphrase"


def _open_account_menu(page: Page) -> None:
    page.locator(".account-menu summary").click()


def test_sign_out_everywhere_ends_the_session_of_another_browser(
    page: Page, second_page: Page, http: httpx.Client
) -> None:
    owner = register(http)
    open_settled_keys_as(page, owner)
    open_settled_keys_as(second_page, login(http, owner.email))  # the same person on another machine
    expect(second_page.get_by_role("heading", name="API Keys", level=1)).to_be_visible()

    _open_account_menu(page)
    page.get_by_role("button", name="Sign out everywhere").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("this one included")
    dialog.get_by_role("button", name="Sign out everywhere").click()

    expect(page).to_have_url(re.compile(r"/signin$"))
    expect(page.get_by_role("status")).to_contain_text("You have signed out everywhere")
    assert stored_token(page) is None
    # The other browser still shows its page; its next API call lands on Sign in with the message.
    second_page.get_by_role("link", name="Team").click()
    expect(second_page).to_have_url(re.compile(r"/signin\?next=%2Fteam$"))
    expect(second_page.get_by_role("status")).to_contain_text(SESSION_ENDED)
    assert stored_token(second_page) is None
    actions = [entry["action"] for entry in audit_entries(http, login(http, owner.email).headers)]
    assert "auth.logout_all" in actions


def test_cancelling_sign_out_everywhere_keeps_every_session(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    open_settled_keys_as(page, owner)
    _open_account_menu(page)
    page.get_by_role("button", name="Sign out everywhere").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

    expect(page.get_by_role("heading", name="API Keys", level=1)).to_be_visible()
    token = stored_token(page)
    assert token and http.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert login(http, owner.email).token


def test_change_password_says_what_is_wrong_beside_the_form_then_works(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    open_settled_keys_as(page, owner)
    first_token = owner.token
    _open_account_menu(page)
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_visible()
    form = page.get_by_role("form", name="Change password")

    page.get_by_label("Current password").fill("not the password")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(form.locator(".form-error")).to_contain_text("current password is not right")
    assert stored_token(page) == first_token  # a wrong password does not end the session

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill("iloveyou")
    form.get_by_role("button", name="Change password").click()
    expect(form.locator(".form-error")).to_contain_text("New password")
    expect(form.locator(".form-error")).to_contain_text("most common")

    page.get_by_label("New password").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password has been changed")
    expect(form.locator(".form-error")).to_have_count(0)
    new_token = stored_token(page)
    assert new_token and new_token != first_token

    # This browser goes on with the new token; the old token and the old password are done.
    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()
    old = http.get("/api/auth/me", headers={"Authorization": f"Bearer {first_token}"})
    assert old.status_code == 401 and old.json()["code"] == "token_revoked"
    assert http.post("/api/auth/login", json={"email": owner.email, "password": PASSWORD}).status_code == 401
    assert login(http, owner.email, NEW_PASSWORD).token
