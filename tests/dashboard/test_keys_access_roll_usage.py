"""API Keys in Chromium, beyond create and revoke: the access a key is made with, Roll (the new key once in
the green banner, the old one working for the grace period chosen), each key's requests per day, and keys
revoked because someone reported them exposed."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from provenant.db import Database
from provenant.models import ApiKeyUsage
from tests.dashboard.helpers import XSS, assert_no_stray_words, assert_nothing_ran, open_as, storage_text
from tests.dashboard.test_keys import KEY, row
from tests.factories import Account, bearer, invite_and_accept, register

KEYS = "/api/org/keys"


def _create(http: httpx.Client, account: Account, **body: Any) -> dict[str, Any]:
    response = http.post(KEYS, json={"name": "prod-ingestion", **body}, headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _listed(http: httpx.Client, account: Account) -> list[dict[str, Any]]:
    return list(http.get(f"{KEYS}?includeRevoked=true", headers=account.headers).json())


def test_new_key_offers_three_accesses_each_with_a_line_and_creates_the_one_chosen(
    page: Page, http: httpx.Client
) -> None:
    owner = register(http)
    open_as(page, owner, "/keys")
    page.get_by_role("button", name="New Key").first.click()
    access = page.get_by_role("group", name="Access")
    expect(access.get_by_role("radio")).to_have_count(3)
    expect(page.get_by_label("Full — acts as you")).to_be_checked()
    expect(access).to_contain_text("Everything your role allows")
    expect(access).to_contain_text("changes nothing")
    expect(access).to_contain_text("What an instrumented agent needs")
    expect(page.get_by_label("Ingest only")).to_have_accessible_description(re.compile("instrumented agent"))

    page.get_by_label("Name").fill("support-agent")
    page.get_by_label("Ingest only").check()
    page.get_by_role("button", name="Create").click()

    expect(page.locator(".banner-success code.secret")).to_have_text(KEY)
    (listed,) = _listed(http, owner)
    assert listed["access"] == "ingest"
    expect(row(page, "support-agent")).to_contain_text("Ingest only")


def test_each_row_says_its_access(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    for access in ("full", "read", "ingest"):
        _create(http, owner, name=f"{access}-key", access=access)
    open_as(page, owner, "/keys")
    expect(row(page, "full-key")).to_contain_text("Full access")
    expect(row(page, "read-key")).to_contain_text("Read only")
    expect(row(page, "ingest-key")).to_contain_text("Ingest only")


def test_roll_with_a_grace_period_shows_the_new_key_once_and_the_old_one_keeps_working(
    page: Page, http: httpx.Client
) -> None:
    owner = register(http)
    old = _create(http, owner, access="read")
    open_as(page, owner, "/keys")

    row(page, "prod-ingestion").get_by_role("button", name="Roll prod-ingestion").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("same name, access, rate limit and expiry")
    for choice in ("Now", "1 hour", "24 hours", "7 days"):
        expect(dialog.get_by_text(choice, exact=True)).to_be_visible()
    expect(dialog.get_by_label("24 hours")).to_be_checked()
    dialog.get_by_text("1 hour", exact=True).click()
    dialog.get_by_role("button", name="Roll key").click()

    banner = page.locator(".banner-success")
    secret = banner.locator("code.secret")
    expect(secret).to_have_text(KEY)
    new_key = secret.inner_text()
    assert new_key != old["key"]
    expect(banner).to_contain_text("will not be shown again")
    expect(banner).to_contain_text("keeps working for 1 hour")
    assert new_key not in storage_text(page)

    listed = {key["id"]: key for key in _listed(http, owner)}
    new = next(key for key in listed.values() if key["id"] != old["id"])
    assert listed[old["id"]]["rolledToId"] == new["id"]
    assert new["access"] == "read"
    expires = datetime.fromisoformat(listed[old["id"]]["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=55) < expires - datetime.now(UTC) <= timedelta(hours=1)
    assert http.get("/api/auth/me", headers=bearer(old["key"])).status_code == 200
    assert http.get("/api/auth/me", headers=bearer(new_key)).status_code == 200

    old_row = page.locator(f'tbody tr[data-key-id="{old["id"]}"]')
    expect(old_row.locator(".mark-info")).to_have_text(re.compile(r"^rolled — stops working in (60 minutes|1 hour)$"))
    expect(old_row.locator(".mark-info time")).to_have_attribute("datetime", listed[old["id"]]["expiresAt"])
    expect(old_row.get_by_role("button", name="Roll prod-ingestion")).to_have_count(0)  # rolled once
    expect(old_row.get_by_role("button", name="Revoke prod-ingestion")).to_be_visible()
    new_row = page.locator(f'tbody tr[data-key-id="{new["id"]}"]')
    expect(new_row.get_by_role("button", name="Roll prod-ingestion")).to_be_visible()
    assert_no_stray_words(page)


def test_roll_now_stops_the_old_key_at_once(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    old = _create(http, owner, name="leaked-ci")
    open_as(page, owner, "/keys")
    row(page, "leaked-ci").get_by_role("button", name="Roll leaked-ci").click()
    page.get_by_role("dialog").get_by_text("Now", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Roll key").click()
    expect(page.locator(".banner-success")).to_contain_text("has stopped working")
    refused = http.get("/api/auth/me", headers=bearer(old["key"]))
    assert refused.status_code == 401
    assert refused.json()["code"] == "api_key_expired"


def test_cancelling_a_roll_changes_nothing(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    _create(http, owner, name=XSS)
    open_as(page, owner, "/keys")
    page.get_by_role("button", name=f"Roll {XSS}").click()
    expect(page.get_by_role("dialog")).to_contain_text(XSS)
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.locator(".banner-success")).to_have_count(0)
    assert len(_listed(http, owner)) == 1
    assert_nothing_ran(page)


def test_a_member_rolls_their_own_key_and_is_not_offered_others(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    member = invite_and_accept(http, owner, "MEMBER")
    _create(http, member, name="my-key")
    open_as(page, member, "/keys")
    expect(row(page, "my-key").get_by_role("button", name="Roll my-key")).to_be_visible()


def test_an_admin_is_offered_revoke_but_not_roll_on_anothers_key(page: Page, http: httpx.Client) -> None:
    """Rolling another's key would hand over a key acting as them (issue 24): the API refuses it, and
    the page offers only what it allows."""
    owner = register(http)
    admin = invite_and_accept(http, owner, "ADMIN")
    _create(http, owner, name="owners-key")
    _create(http, admin, name="admins-key")
    open_as(page, admin, "/keys")
    expect(row(page, "owners-key").get_by_role("button", name="Revoke owners-key")).to_be_visible()
    expect(row(page, "owners-key").get_by_role("button", name="Roll owners-key")).to_have_count(0)
    expect(row(page, "admins-key").get_by_role("button", name="Roll admins-key")).to_be_visible()


def test_each_key_shows_its_requests_of_the_last_30_days(
    page: Page, http: httpx.Client, server_database: Database
) -> None:
    owner = register(http)
    busy = _create(http, owner, name="busy-key")
    _create(http, owner, name="quiet-key")
    today = datetime.now(UTC).date()
    with server_database.transaction() as session:
        session.add_all(
            [
                ApiKeyUsage(api_key_id=busy["id"], day=today - timedelta(days=3), requests=5),
                ApiKeyUsage(api_key_id=busy["id"], day=today, requests=1200),
                ApiKeyUsage(api_key_id=busy["id"], day=today - timedelta(days=40), requests=999),  # too old
            ]
        )

    open_as(page, owner, "/keys")

    chart = row(page, "busy-key").get_by_role("img")
    expect(chart).to_have_attribute("aria-label", re.compile(r"1,205 in all, at most 1,200 on "))
    expect(chart.locator("rect")).to_have_count(30)
    expect(row(page, "busy-key").locator(".usage-total")).to_have_text("1,205")
    quiet = row(page, "quiet-key").get_by_role("img")
    expect(quiet).to_have_attribute("aria-label", re.compile(r": none$"))
    expect(row(page, "quiet-key").locator(".usage-total")).to_have_text("0")
    heights = chart.locator("rect").evaluate_all("bars => bars.map(bar => Number(bar.getAttribute('height')))")
    assert heights[-1] == max(heights) and heights[-4] > 1 and heights.count(1) == 28


def test_a_key_reported_exposed_is_marked_with_the_date(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    leaked = _create(http, owner, name="pasted-in-an-issue")
    revoked = _create(http, owner, name="retired")
    assert http.delete(f"{KEYS}/{revoked['id']}", headers=owner.headers).status_code == 200
    reported = http.post("/api/keys/report-leaked", json={"keys": [leaked["key"]]})
    assert reported.status_code == 202

    open_as(page, owner, "/keys")
    page.get_by_role("button", name="All", exact=True).click()

    exposed = row(page, "pasted-in-an-issue")
    expect(exposed).to_contain_text("Revoked — found exposed")
    revoked_at = next(key["revokedAt"] for key in _listed(http, owner) if key["id"] == leaked["id"])
    expect(exposed.locator("td").nth(6).locator("time")).to_have_attribute("datetime", revoked_at)
    expect(exposed.get_by_role("button")).to_have_count(0)
    expect(row(page, "retired")).to_contain_text("Revoked")
    expect(row(page, "retired")).not_to_contain_text("found exposed")


def test_new_key_takes_an_optional_rate_limit_and_each_row_shows_it(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    _create(http, owner, name="unlimited-key")
    open_as(page, owner, "/keys")
    expect(row(page, "unlimited-key")).not_to_contain_text("requests a minute")

    page.get_by_role("button", name="New Key").first.click()
    limit = page.get_by_label("Rate limit (requests per minute)")
    expect(limit).to_have_value("")
    expect(limit).to_have_accessible_description(re.compile("Empty: no limit"))
    page.get_by_label("Name").fill("limited-key")
    limit.fill("2000000")  # over the contract's bound: the browser does not send it
    page.get_by_role("button", name="Create").click()
    expect(page.locator(".banner-success")).to_have_count(0)
    limit.fill("1200")
    page.get_by_role("button", name="Create").click()

    expect(page.locator(".banner-success code.secret")).to_have_text(KEY)
    limits = {key["name"]: key["rateLimitPerMinute"] for key in _listed(http, owner)}
    assert limits == {"limited-key": 1200, "unlimited-key": None}
    expect(row(page, "limited-key")).to_contain_text("Up to 1,200 requests a minute")
