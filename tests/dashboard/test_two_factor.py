"""Two-factor sign-in in Chromium: set up on Account by reading the secret off the page (as a person types it
into an app), sign in with a code or a recovery code, regenerate and turn off with the password, and an OWNER
requiring it of a member who then lands on Account."""

import os
import re
from pathlib import Path

import httpx
import pyotp
from playwright.sync_api import Page, expect

from tests.dashboard.helpers import assert_no_stray_words, open_as, sign_in, stored_token
from tests.factories import PASSWORD, Account, invite_and_accept, register, totp_code, turn_on_two_factor

# Set PROVENANT_SCREENSHOTS to a directory to keep what these tests saw.
SHOTS = os.environ.get("PROVENANT_SCREENSHOTS")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _next_code(secret: str) -> str:
    """A code not used yet: the next step's (the setup used the current one), within the server's drift."""
    return totp_code(secret, steps=1)


def _set_up_in_page(page: Page, owner: Account) -> tuple[str, list[str]]:
    open_as(page, owner, "/account")
    section = page.get_by_role("region", name="Two-factor sign-in")
    expect(section).to_contain_text("Off")
    section.get_by_role("button", name="Set up two-factor sign-in").click()
    qr = section.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 0  # the data: URI rendered under the CSP
    secret = section.locator("code.totp-secret").inner_text()
    _shot(page, "account-two-factor-setup")

    section.get_by_label("Enter the 6-digit code the app shows").fill(
        "000000" if totp_code(secret) != "000000" else "111111"
    )
    section.get_by_role("button", name="Confirm").click()
    expect(section.locator(".form-error")).to_contain_text("not right")
    section.get_by_label("Enter the 6-digit code the app shows").fill(pyotp.TOTP(secret).now())
    section.get_by_role("button", name="Confirm").click()
    codes = section.get_by_role("list", name="Recovery codes").locator("li")
    expect(codes).to_have_count(10)
    _shot(page, "account-two-factor-codes")
    return secret, [code.strip() for code in codes.all_inner_texts()]


def test_set_up_then_sign_in_with_a_code_and_with_a_recovery_code(
    page: Page, second_page: Page, http: httpx.Client
) -> None:
    owner = register(http)
    secret, codes = _set_up_in_page(page, owner)
    section = page.get_by_role("region", name="Two-factor sign-in")
    with page.expect_download() as downloaded:
        section.get_by_role("button", name="Download").click()
    saved = Path(downloaded.value.path()).read_text()
    assert all(code in saved for code in codes)
    assert "Provenant recovery codes" in saved
    section.get_by_role("button", name="Done").click()
    expect(section).to_contain_text("On")
    assert http.get("/api/auth/me", headers=owner.headers).json()["twoFactor"] is True
    assert secret not in (page.evaluate("() => JSON.stringify(localStorage)") or "")

    # Another browser signs in: the password, then the authenticator's code.
    second_page.goto("/signin")
    sign_in(second_page, owner.email)
    expect(second_page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    expect(second_page.get_by_text("Enter the 6-digit code from your authenticator app")).to_be_visible()
    assert stored_token(second_page) is None
    _shot(second_page, "signin-code")
    second_page.get_by_label("Authentication code").fill("000000" if _next_code(secret) != "000000" else "111111")
    second_page.get_by_role("button", name="Verify").click()
    expect(second_page.locator(".form-error")).to_contain_text("not right")
    second_page.get_by_label("Authentication code").fill(_next_code(secret))
    second_page.get_by_role("button", name="Verify").click()
    expect(second_page.get_by_role("heading", name="Agents", level=1)).to_be_visible()
    assert stored_token(second_page)

    # And once more, with a recovery code instead.
    second_page.get_by_role("button", name="Sign out", exact=True).click()
    sign_in(second_page, owner.email)
    second_page.get_by_role("button", name="Use a recovery code instead").click()
    second_page.get_by_label("Recovery code").fill(codes[3].upper())
    second_page.get_by_role("button", name="Verify").click()
    expect(second_page.get_by_role("heading", name="Agents", level=1)).to_be_visible()


def test_regenerate_and_turn_off_need_the_password(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    old = turn_on_two_factor(http, owner).recovery_codes
    open_as(page, owner, "/account")
    section = page.get_by_role("region", name="Two-factor sign-in")

    section.get_by_role("button", name="Regenerate recovery codes").click()
    section.get_by_label("Password").fill("not my password")
    section.get_by_role("button", name="Regenerate", exact=True).click()
    expect(section.locator(".form-error")).to_contain_text("password is not right")
    section.get_by_label("Password").fill(PASSWORD)
    section.get_by_role("button", name="Regenerate", exact=True).click()
    codes = section.get_by_role("list", name="Recovery codes").locator("li")
    expect(codes).to_have_count(10)
    assert not set(codes.all_inner_texts()) & set(old)
    section.get_by_role("button", name="Done").click()

    section.get_by_role("button", name="Turn off").click()
    _shot(page, "account-two-factor-off-confirm")
    section.get_by_label("Password").fill(PASSWORD)
    section.get_by_role("button", name="Turn off two-factor sign-in").click()
    expect(section.get_by_role("button", name="Set up two-factor sign-in")).to_be_visible()
    assert http.get("/api/auth/me", headers=owner.headers).json()["twoFactor"] is False
    assert_no_stray_words(page)


def test_an_owner_requires_it_and_a_member_without_it_lands_on_account(
    page: Page, second_page: Page, http: httpx.Client
) -> None:
    owner = register(http, name="Olivia Owner")
    member = invite_and_accept(http, owner, "MEMBER", name="Mona Member")
    open_as(page, owner, "/team")
    row = page.locator("tbody tr").filter(has_text="Mona Member")
    expect(row).to_contain_text("Off")
    setting = page.get_by_label("Require two-factor sign-in")
    setting.check()
    expect(page.locator(".form-error")).to_contain_text("Turn on two-factor sign-in for your own account first")
    expect(setting).not_to_be_checked()

    turn_on_two_factor(http, owner)
    page.reload()
    expect(page.locator("tbody tr").filter(has_text="Olivia Owner")).to_contain_text("On")
    page.get_by_label("Require two-factor sign-in").check()
    expect(page.locator(".form-error")).to_have_count(0)
    page.reload()
    expect(page.get_by_label("Require two-factor sign-in")).to_be_checked()
    _shot(page, "team-two-factor")

    # The member opens the dashboard: only Account works until they turn it on.
    open_as(second_page, member, "/agents")
    expect(second_page).to_have_url(re.compile(r"/account$"))
    expect(second_page.get_by_role("alert")).to_contain_text("requires two-factor sign-in")
    _shot(second_page, "account-two-factor-required")
    section = second_page.get_by_role("region", name="Two-factor sign-in")
    section.get_by_role("button", name="Set up two-factor sign-in").click()
    secret = section.locator("code.totp-secret").inner_text()
    section.get_by_label("Enter the 6-digit code the app shows").fill(pyotp.TOTP(secret).now())
    section.get_by_role("button", name="Confirm").click()
    section.get_by_role("button", name="Done").click()
    second_page.get_by_role("navigation", name="Main").get_by_role("link", name="Agents").click()
    expect(second_page.get_by_role("heading", name="Agents", level=1)).to_be_visible()


def test_members_and_viewers_see_no_setting(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    admin = invite_and_accept(http, owner, "ADMIN")
    open_as(page, admin, "/team")
    expect(page.get_by_role("columnheader", name="Two-factor")).to_be_visible()
    expect(page.get_by_label("Require two-factor sign-in")).to_have_count(0)
