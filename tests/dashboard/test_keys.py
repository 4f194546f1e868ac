"""API Keys in Chromium: create through the form, the key once in the green banner, use it, revoke it."""

import re
from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import update

from provenant.db import Database
from provenant.models import ApiKey
from tests.dashboard.helpers import XSS, assert_nothing_ran, open_as, storage_text
from tests.factories import create_key, invite_and_accept, register

KEY = re.compile(r"^pk_live_[0-9a-f]{32}$")


def create_in_page(page: Page, name: str, expiry: str | None = None) -> str:
    page.get_by_role("button", name="New Key").first.click()
    page.get_by_label("Name").fill(name)
    if expiry:
        page.get_by_text(expiry, exact=True).click()
    page.get_by_role("button", name="Create").click()
    secret = page.locator(".banner-success code.secret")
    expect(secret).to_be_visible()
    return secret.inner_text()


def row(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("tbody tr").filter(has=page.locator(".name", has_text=re.compile(f"^{re.escape(name)}$")))


def test_create_use_reload_and_revoke(page: Page, http: httpx.Client) -> None:
    open_as(page, register(http), "/keys")
    expect(page.get_by_text("No keys yet — create one to use the SDK")).to_be_visible()

    key = create_in_page(page, "prod-ingestion")
    assert KEY.match(key)
    banner = page.locator(".banner-success")
    expect(banner).to_contain_text("will not be shown again")
    expect(banner).to_contain_text("secret manager")
    expect(banner.get_by_role("button", name="Copy")).to_be_visible()
    expect(row(page, "prod-ingestion")).to_contain_text(f"pk_live_{key[8:16]}…")
    expect(row(page, "prod-ingestion")).to_contain_text("Never")
    assert key not in storage_text(page)

    # The key works over plain HTTP, as the SDK will use it.
    used = http.get("/api/agents", headers={"Authorization": f"Bearer {key}"})
    assert used.status_code == 200, used.text

    # Leaving while the banner is up asks first: in the page, and through the tab's beforeunload.
    page.get_by_role("link", name="Team").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("will not be shown again")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/keys$"))
    expect(banner).to_be_visible()
    asked: list[str] = []
    page.on("dialog", lambda prompt: (asked.append(prompt.type), prompt.accept()))
    page.reload()
    assert asked == ["beforeunload"]

    expect(row(page, "prod-ingestion")).to_be_visible()
    expect(page.locator(".banner-success")).to_have_count(0)
    assert key not in page.content()
    assert key not in storage_text(page)
    last_used = row(page, "prod-ingestion").locator("td").nth(4)
    expect(last_used).not_to_have_text("Never")
    assert last_used.locator("time").get_attribute("title")  # the exact time, on hover

    row(page, "prod-ingestion").get_by_role("button", name="Revoke prod-ingestion").click()
    confirm = page.get_by_role("dialog")
    expect(confirm).to_contain_text("permanent")
    confirm.get_by_role("button", name="Revoke key").click()
    expect(row(page, "prod-ingestion")).to_have_count(0)  # gone from the Active view
    page.get_by_role("button", name="All", exact=True).click()
    expect(row(page, "prod-ingestion")).to_contain_text("Revoked")
    expect(row(page, "prod-ingestion").get_by_role("button", name=re.compile("Revoke"))).to_have_count(0)
    refused = http.get("/api/agents", headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 401
    assert refused.json()["code"] == "api_key_revoked"


def test_closing_the_banner_asks_and_then_forgets_the_key(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    open_as(page, owner, "/keys")
    key = create_in_page(page, "local-dev")
    page.get_by_role("button", name="I have stored the key").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.locator(".banner-success")).to_be_visible()
    page.get_by_role("button", name="I have stored the key").click()
    page.get_by_role("dialog").get_by_role("button", name="Close the key").click()
    expect(page.locator(".banner-success")).to_have_count(0)
    assert key not in page.content()
    page.get_by_role("link", name="Team").click()  # nothing left to guard
    expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()


def test_expiry_choices_warning_and_ci_suggestion(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    open_as(page, owner, "/keys")
    page.get_by_role("button", name="New Key").first.click()
    expect(page.get_by_label("Name")).to_have_attribute("placeholder", re.compile("prod-ingestion.*github-actions-ci"))
    page.get_by_label("Name").fill("github-actions-ci")
    suggestion = page.get_by_text("This looks like a CI key")
    expect(suggestion).to_be_visible()
    page.get_by_role("button", name="Expire in 90 days").click()
    expect(page.get_by_label("90 days")).to_be_checked()
    expect(suggestion).to_have_count(0)

    page.get_by_text("A date…", exact=True).click()
    soon = datetime.now() + timedelta(hours=3)
    page.get_by_label("Expiry date and time").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    expect(page.get_by_text("less than a day")).to_be_visible()
    page.get_by_role("button", name="Create").click()
    expect(page.locator(".banner-success")).to_be_visible()
    (listed,) = http.get("/api/org/keys", headers=owner.headers).json()
    expires = datetime.fromisoformat(listed["expiresAt"].replace("Z", "+00:00"))
    assert abs(expires - soon.astimezone(UTC)) < timedelta(minutes=1)


def test_a_30_day_key_shows_its_expiry(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    open_as(page, owner, "/keys")
    create_in_page(page, "staging", expiry="30 days")
    (listed,) = http.get("/api/org/keys", headers=owner.headers).json()
    expires = datetime.fromisoformat(listed["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)
    expect(row(page, "staging").locator("td").nth(3).locator("time")).to_be_visible()


def test_a_key_name_is_text_and_runs_nothing(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    create_key(http, owner, name=XSS)
    open_as(page, owner, "/keys")
    expect(page.locator("tbody .name")).to_have_text(XSS)
    page.get_by_role("button", name=f"Revoke {XSS}").click()
    expect(page.get_by_role("dialog")).to_contain_text(XSS)
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert_nothing_ran(page)


def test_marks_for_rotation_unused_keys_and_creators_who_left(
    page: Page, http: httpx.Client, server_database: Database
) -> None:
    owner = register(http)
    member = invite_and_accept(http, owner, "MEMBER", name="Mallory Member")
    create_key(http, member, name="members-key")
    create_key(http, owner, name="old-key")
    create_key(http, owner, name="fresh-key")
    old_id = next(k["id"] for k in http.get("/api/org/keys", headers=owner.headers).json() if k["name"] == "old-key")
    with server_database.transaction() as session:
        created = datetime.now(UTC) - timedelta(days=120)
        session.execute(update(ApiKey).where(ApiKey.id == old_id).values(created_at=created))
    assert http.delete(f"/api/org/members/{member.user_id}", headers=owner.headers).status_code == 200

    open_as(page, owner, "/keys")
    expect(row(page, "old-key")).to_contain_text("due for rotation")
    expect(row(page, "old-key")).to_contain_text("never used — check its configuration")
    expect(row(page, "fresh-key").locator(".mark")).to_have_count(0)
    expect(row(page, "members-key")).to_contain_text("creator left the organization")
    expect(row(page, "members-key").get_by_role("button", name="Revoke members-key")).to_be_visible()

    # OWNER and ADMIN filter by member; a creator who left is still one of the choices.
    page.get_by_label("Created by").select_option(label="Mallory Member (left)")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(row(page, "members-key")).to_be_visible()


def test_a_member_sees_and_revokes_only_their_own_keys(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    create_key(http, owner, name="owners-key")
    member = invite_and_accept(http, owner, "MEMBER")
    create_key(http, member, name="my-key")
    open_as(page, member, "/keys")
    expect(row(page, "my-key")).to_be_visible()
    expect(row(page, "owners-key")).to_have_count(0)
    expect(page.get_by_label("Created by")).to_have_count(0)
    expect(row(page, "my-key").get_by_role("button", name="Revoke my-key")).to_be_visible()
