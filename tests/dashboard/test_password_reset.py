"""Password reset in Chromium: "Forgot password?" only where the server emails, the request page, the email's
link to Reset password (signed in, the token gone from the address bar), Reset password… on Team with the
link in a green banner, and Team's notice when the server sends no email."""

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.dashboard.conftest import watch
from tests.dashboard.helpers import open_as, sign_in, stored_token
from tests.dashboard.test_team import member_row
from tests.email.mailbox import PUBLIC_URL, Mailbox, smtp_server, text_of
from tests.factories import PASSWORD, invite_and_accept, login, register
from tests.servers import LiveServer, serve

NEW_PASSWORD = "a much better passphrase"


# --- a server that sends email, invite-only, set up by PROVENANT_INIT_* ---------------------------------

INIT_OWNER, INIT_PASSWORD = "init.owner@example.com", "the first owner's passphrase"


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Mailbox]]:
    directory = tmp_path_factory.mktemp("dashboard-mail")
    with smtp_server() as (mailbox, port):
        env = {
            "PROVENANT_SMTP_URL": f"smtp://127.0.0.1:{port}",
            "PROVENANT_PUBLIC_URL": PUBLIC_URL,
            "PROVENANT_EMAIL_POLL_INTERVAL": "0.2",
            "PROVENANT_SIGNUP": "invite-only",
            "PROVENANT_INIT_ORG_NAME": "Initial Org",
            "PROVENANT_INIT_ORG_SLUG": "initial-org",
            "PROVENANT_INIT_USER_NAME": "Ina Init",
            "PROVENANT_INIT_USER_EMAIL": INIT_OWNER,
            "PROVENANT_INIT_USER_PASSWORD": INIT_PASSWORD,
        }
        with serve(directory, f"sqlite:///{directory / 'provenant.db'}", env=env) as live:
            yield live, mailbox


@pytest.fixture
def mail_page(browser: Browser, mail_server: tuple[LiveServer, Mailbox]) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(base_url=mail_server[0].url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(5000)
    page = context.new_page()
    errors = watch(page)
    yield page
    context.close()
    assert not errors, errors


def test_forgot_password_emails_a_link_that_resets_and_signs_in(
    mail_page: Page, mail_server: tuple[LiveServer, Mailbox]
) -> None:
    server, mailbox = mail_server
    with httpx.Client(base_url=server.url) as http:
        owner = invite_and_accept(http, login(http, INIT_OWNER, INIT_PASSWORD), "MEMBER", name="Fay Forgetful")
    page = mail_page
    page.goto("/signin")
    expect(page.locator(".auth-card")).to_contain_text("Ask your organization's Owner or Admin for an invitation")
    expect(page.get_by_role("link", name="Register your organization")).to_have_count(0)
    page.get_by_role("link", name="Forgot password?").click()
    expect(page).to_have_url(re.compile(r"/forgot-password$"))
    page.get_by_label("Email").fill(owner.email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator(".banner-success")).to_contain_text("If an account exists for that address, we sent a link")

    message = mailbox.wait_for(2, to=owner.email)[1]  # after the invitation
    link = re.search(r"\S+/reset-password\?token=\S+", text_of(message))
    assert link and link.group(0).startswith(PUBLIC_URL)
    page.goto(link.group(0).replace(PUBLIC_URL, server.url))
    expect(page.get_by_role("heading", name="Reset password")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/reset-password$"))  # the token left the address bar
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page).to_have_url(re.compile(r"/agents$"))
    assert stored_token(page)
    with httpx.Client(base_url=server.url) as http:
        login(http, owner.email, NEW_PASSWORD)
    token = link.group(0).rsplit("token=", 1)[1]
    assert token not in server.log()  # the access log line of GET /reset-password?token=… is redacted


def test_a_used_link_says_so_and_offers_a_new_one(mail_page: Page, mail_server: tuple[LiveServer, Mailbox]) -> None:
    mail_page.goto("/reset-password?token=not-a-token-we-issued")
    mail_page.get_by_label("New password").fill(NEW_PASSWORD)
    mail_page.get_by_role("button", name="Set password and sign in").click()
    expect(mail_page.locator(".error-slot")).to_contain_text("not valid")
    mail_page.get_by_role("link", name="Ask for a new link").click()
    expect(mail_page.get_by_role("heading", name="Forgot password?")).to_be_visible()


def test_team_has_no_email_notice_where_the_server_emails(
    mail_page: Page, mail_server: tuple[LiveServer, Mailbox]
) -> None:
    with httpx.Client(base_url=mail_server[0].url) as http:
        owner = login(http, INIT_OWNER, INIT_PASSWORD)
    open_as(mail_page, owner, "/team")
    expect(mail_page.get_by_role("region", name="Members")).to_be_visible()
    expect(mail_page.get_by_text("Email is not configured on this server")).to_have_count(0)


# --- the session's server, without email -------------------------------------------------------------


def test_without_email_sign_in_offers_no_reset_and_the_page_says_why(page: Page) -> None:
    page.goto("/signin")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("link", name="Forgot password?")).to_have_count(0)
    page.goto("/forgot-password")
    expect(page.locator(".auth-card")).to_contain_text("Ask an Owner or Admin of your organization")


def test_an_owner_issues_a_member_a_link_shown_once_in_a_green_banner(
    page: Page, second_page: Page, http: httpx.Client, server: LiveServer
) -> None:
    owner = register(http, name="Olivia Owner")
    member = invite_and_accept(http, owner, "MEMBER", name="Mia Member")
    open_as(page, owner, "/team")
    expect(page.get_by_text("Email is not configured on this server")).to_be_visible()
    expect(member_row(page, "Olivia Owner").get_by_role("button", name=re.compile("^Reset"))).to_have_count(0)
    member_row(page, "Mia Member").get_by_role("button", name="Reset password of Mia Member").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("works once, for one hour")
    dialog.get_by_role("button", name="Issue reset link").click()
    banner = page.locator(".banner-success")
    expect(banner).to_contain_text("Password reset link for Mia Member")
    expect(banner.get_by_role("button", name="Copy")).to_be_visible()
    link = banner.locator("code.secret").inner_text()
    assert link.startswith(f"{server.url}/reset-password?token=")

    second_page.goto(link)
    second_page.get_by_label("New password").fill(NEW_PASSWORD)
    second_page.get_by_role("button", name="Set password and sign in").click()
    expect(second_page).to_have_url(re.compile(r"/agents$"))
    assert http.get("/api/auth/me", headers=member.headers).json()["code"] == "token_revoked"
    second_page.get_by_role("button", name="Sign out").click()
    sign_in(second_page, member.email, NEW_PASSWORD)
    expect(second_page).to_have_url(re.compile(r"/agents$"))
    assert login(http, member.email, NEW_PASSWORD)
    assert http.post("/api/auth/login", json={"email": member.email, "password": PASSWORD}).status_code == 401


def test_who_is_offered_reset_password_follows_change_roles(page: Page, http: httpx.Client) -> None:
    owner = register(http, name="Olivia Owner")
    admin = invite_and_accept(http, owner, "ADMIN", name="Adam Admin")
    invite_and_accept(http, owner, "ADMIN", name="Another Admin")
    member = invite_and_accept(http, owner, "MEMBER", name="Mia Member")
    invite_and_accept(http, owner, "VIEWER", name="Vic Viewer")

    open_as(page, admin, "/team")
    expect(member_row(page, "Vic Viewer")).to_be_visible()
    for name, offered in (
        ("Olivia Owner", 0),
        ("Another Admin", 0),
        ("Adam Admin", 0),
        ("Mia Member", 1),
        ("Vic Viewer", 1),
    ):
        expect(member_row(page, name).get_by_role("button", name=re.compile("^Reset password"))).to_have_count(offered)

    open_as(page, member, "/team")
    expect(member_row(page, "Vic Viewer")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Reset password"))).to_have_count(0)
    expect(page.get_by_text("Email is not configured on this server")).to_have_count(0)  # not theirs to act on
