"""Single sign-on and Sign in with GitHub in Chromium, through the whole redirect dance: an OWNER sets up the
org's provider on Single sign-on settings (Test discovery, Save), a person signs in with SSO at the certified
OpenID Provider's page (oidc-provider) and lands signed in, the Team page marks them; Sign in with GitHub at
a stand-in; /sso-complete's refusals in words.

This module runs its own server: configuring single sign-on makes every Sign in page of a server offer it,
which the other modules' pages do not expect; and it needs the GitHub stand-in's URLs at start.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.helpers import assert_no_stray_words, open_as, sign_in, stored_token
from tests.factories import Account, register, totp_code, turn_on_two_factor, unique
from tests.github_standin import GitHub, email, running_github
from tests.servers import LiveServer, serve
from tests.sso.openid_provider import CALLBACK_PATH, OpenIDProvider, running_provider
from tests.sso.openid_provider import sign_in as sign_in_over_http

# Set PROVENANT_SCREENSHOTS to a directory to keep what these tests saw.
SHOTS = os.environ.get("PROVENANT_SCREENSHOTS")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"sso-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def github() -> Iterator[GitHub]:
    with running_github() as running:
        yield running


@pytest.fixture(scope="module")
def server(github: GitHub, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[LiveServer]:
    """This module's own server (see above), in place of the package's."""
    directory = tmp_path_factory.mktemp("dashboard-sso")
    database = directory / "provenant.db"
    database.write_bytes(sqlite_template.read_bytes())
    env = {"PROVENANT_ALLOWED_ISSUER_HOSTS": "127.0.0.1", **github.server_env()}
    with serve(directory, f"sqlite:///{database}", env=env) as live:
        yield live


@pytest.fixture(scope="module")
def provider(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIDProvider]:
    with running_provider(tmp_path_factory.mktemp("provider"), [server.url + CALLBACK_PATH]) as running:
        yield running


def test_an_owner_sets_up_single_sign_on_and_a_colleague_signs_in_through_the_provider(
    page: Page, second_page: Page, server: LiveServer, provider: OpenIDProvider, http
) -> None:
    owner = register(http)
    domain = f"{unique('acme')}.example.com"
    open_as(page, owner, "/team")
    page.get_by_role("link", name="Single sign-on settings").click()
    expect(page.get_by_role("heading", name="Single sign-on", level=1)).to_be_visible()
    expect(page.get_by_text("Single sign-on is not configured.")).to_be_visible()
    expect(page.get_by_text(server.url + CALLBACK_PATH)).to_be_visible()  # what to register at the provider

    page.get_by_label("Issuer URL").fill(f"{server.url}/no-provider-here")
    page.get_by_role("button", name="Test discovery").click()
    expect(page.get_by_role("alert")).to_contain_text("Issuer URL")
    page.get_by_label("Issuer URL").fill(provider.issuer)
    page.get_by_role("button", name="Test discovery").click()
    expect(page.get_by_text("Discovery works")).to_be_visible()
    expect(page.get_by_text(f"{provider.issuer}/token")).to_be_visible()
    page.get_by_label("Client ID").fill(provider.client_id)
    page.get_by_label("Client secret").fill(provider.client_secret)
    page.get_by_label("Email domains").fill(domain)
    page.get_by_label("Role of new members").select_option("VIEWER")
    _shot(page, "settings-filled")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Single sign-on is on for {domain}.")).to_be_visible()
    expect(page.get_by_label("Client secret")).to_have_value("")
    expect(page.get_by_label("Client secret")).to_have_attribute("placeholder", re.compile("Stored"))
    assert provider.client_secret not in page.content()
    _shot(page, "settings-saved")

    # A colleague, in a browser of their own.
    colleague = f"katherine.johnson@{domain}"
    second_page.goto("/signin")
    second_page.get_by_label("Email").fill(colleague)
    second_page.get_by_role("button", name="Sign in with SSO").click()
    expect(second_page.get_by_role("heading", name="Test Identity Provider")).to_be_visible()
    _shot(second_page, "provider-page")
    second_page.get_by_label("Email").fill(colleague)
    second_page.get_by_role("button", name="Sign in").click()
    expect(second_page.get_by_role("heading", name="Agents", level=1)).to_be_visible()
    expect(second_page.locator(".sidebar-user")).to_contain_text("Katherine Johnson")
    expect(second_page.locator(".sidebar-user")).to_contain_text("Viewer")
    assert stored_token(second_page)
    assert "code=" not in second_page.url
    _shot(second_page, "signed-in")

    page.goto("/team")
    row = page.locator("tr", has_text=colleague)
    expect(row.get_by_text("SSO", exact=True)).to_be_visible()
    expect(page.locator("tr", has_text=owner.email).get_by_text("SSO", exact=True)).to_have_count(0)
    assert_no_stray_words(page)
    _shot(page, "team")

    # Enforced: a password for the domain is refused, in the words of the server, on Sign in.
    page.get_by_role("link", name="Single sign-on settings").click()
    page.get_by_label("Require single sign-on for these domains").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Passwords are refused for these domains.")).to_be_visible()
    with page.context.browser.new_context(base_url=server.url) as third:  # type: ignore[union-attr]
        stranger = third.new_page()
        stranger.goto("/signin")
        sign_in(stranger, colleague, "a password guessed")
        expect(stranger.get_by_text("Your organization signs in with single sign-on")).to_be_visible()


def test_sso_complete_says_why_a_sign_in_did_not_finish(page: Page, provider: OpenIDProvider) -> None:
    page.goto("/sso-complete?error=email_not_verified")
    expect(page.get_by_role("heading", name="Sign-in did not finish")).to_be_visible()
    expect(page.get_by_text("does not say that your email address is verified")).to_be_visible()
    _shot(page, "complete-error")
    page.goto("/sso-complete?error=%3Cimg%20src%3Dx%3E")
    expect(page.get_by_text("The sign-in did not finish. Try again.")).to_be_visible()

    page.goto("/sso-complete?code=made-up-or-already-used")
    expect(page.get_by_text("used already or has expired")).to_be_visible()
    assert page.url.endswith("/sso-complete")  # the code left the address bar before it was sent
    assert stored_token(page) is None
    page.get_by_role("link", name="Back to Sign in").click()

    page.get_by_label("Email").fill(f"someone@{unique('nobody')}.example.com")
    page.get_by_role("button", name="Sign in with SSO").click()
    expect(page.get_by_text("No organization signs in with single sign-on")).to_be_visible()
    assert page.url.endswith("/signin")
    _shot(page, "signin-unknown-domain")


def test_sign_in_with_github_makes_an_organization(page: Page, github: GitHub) -> None:
    address = f"{unique('dorothy')}@example.com"
    github.user = {"id": 424242, "login": "dvaughan", "name": "Dorothy Vaughan"}
    github.emails = [email(address, primary=True)]
    page.goto("/signin")
    _shot(page, "signin")
    page.get_by_role("link", name="Sign in with GitHub").click()
    expect(page.get_by_role("heading", name="Agents", level=1)).to_be_visible()
    expect(page.locator(".sidebar-user")).to_contain_text("Dorothy Vaughan")
    expect(page.locator(".sidebar-user")).to_contain_text("Owner")
    assert stored_token(page)


def test_a_member_with_two_factor_sign_in_gives_a_code_after_the_provider(
    page: Page, server: LiveServer, provider: OpenIDProvider, http
) -> None:
    owner = register(http)
    domain = f"{unique('acme')}.example.com"
    body = {"issuer": provider.issuer, "clientId": provider.client_id, "clientSecret": provider.client_secret}
    assert http.put("/api/org/sso", json=body | {"domains": [domain]}, headers=owner.headers).status_code == 200
    colleague = f"mae.jemison@{domain}"
    with httpx.Client(timeout=30) as earlier_browser:  # their first sign-in, then two-factor turned on
        location = sign_in_over_http(earlier_browser, server.url, colleague).headers["location"]
    first = http.post("/api/auth/sso/exchange", json={"code": location.split("code=")[1]}).json()
    secret = turn_on_two_factor(http, Account(first["token"], first["user"], first["org"], colleague)).secret

    page.goto("/signin")
    page.get_by_label("Email").fill(colleague)
    page.get_by_role("button", name="Sign in with SSO").click()
    expect(page.get_by_role("heading", name="Test Identity Provider")).to_be_visible()  # at the provider
    page.get_by_label("Email").fill(colleague)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    assert stored_token(page) is None
    _shot(page, "two-factor-step")
    page.get_by_label("Authentication code").fill(totp_code(secret, steps=1))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Agents", level=1)).to_be_visible()
    assert stored_token(page)
