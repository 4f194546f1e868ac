"""Screenshots of every dashboard page into docs/screenshots/, for the README. Run by hand after pages change:

    .venv/bin/python scripts/screenshots.py

Starts its own `provenant serve` on a fresh SQLite file, seeds a realistic organization through the API
(members, invitations, keys, agents, sessions with turns; the audit log fills itself), then saves each page
at 1280 px wide, the list pages (API Keys, Agents, Sessions, Audit Log) once more at 1024 px, and a phone's
screen (390 px) of a few (phone-*). Uses Debian's Chromium, like the tests. Name pages to take only theirs
(the names of the PNGs without the width, e.g. `keys`, which also takes keys-new, keys-created, keys-roll and
keys-1024; `trusted` takes the Trusted CI section of API Keys and its New policy form, with CI jobs' keys from
a stand-in issuer on loopback; `phone` takes the phone's):

    .venv/bin/python scripts/screenshots.py keys
"""

import math
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.factories import PASSWORD, Account, accept, invite, link_token, login  # noqa: E402
from tests.oidc_issuer import running_issuer  # noqa: E402
from tests.servers import serve  # noqa: E402

from provenant.db import Database  # noqa: E402
from provenant.models import ApiKey, ApiKeyUsage  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PUBLIC_URL = "https://provenant.example.com"
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}


def member(http: httpx.Client, owner: Account, role: str, name: str, email: str) -> Account:
    invitation = invite(http, owner, email=email, role=role)
    response = accept(http, link_token(invitation["inviteLink"]), name=name)
    response.raise_for_status()
    return login(http, email)


def key(
    http: httpx.Client, account: Account, name: str, *, days: int | None = None, access: str = "full"
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "access": access}
    if days:
        body["expiresAt"] = (datetime.now(UTC) + timedelta(days=days)).isoformat().replace("+00:00", "Z")
    response = http.post("/api/org/keys", json=body, headers=account.headers)
    response.raise_for_status()
    return dict(response.json())


def conversation(http: httpx.Client, headers: dict[str, str], agent_id: str, turns: list[dict[str, Any]]) -> str:
    session = http.post("/api/sessions", json={"agentId": agent_id, "tags": ["prod"]}, headers=headers)
    session.raise_for_status()
    session_id = str(session.json()["id"])
    for turn in turns:
        http.post(f"/api/sessions/{session_id}/turns", json=turn, headers=headers).raise_for_status()
    http.post(f"/api/sessions/{session_id}/end", json={"status": "COMPLETED"}, headers=headers).raise_for_status()
    return session_id


def seed(http: httpx.Client, database: Database) -> dict[str, Any]:
    registered = http.post(
        "/api/auth/register",
        json={
            "name": "Ada Lovelace",
            "email": "ada@analytical.example",
            "password": PASSWORD,
            "orgName": "Analytical Engines",
            "orgSlug": "analytical-engines",
        },
    )
    registered.raise_for_status()
    owner = login(http, "ada@analytical.example")
    admin = member(http, owner, "ADMIN", "Grace Hopper", "grace@analytical.example")
    engineer = member(http, owner, "MEMBER", "Alan Turing", "alan@analytical.example")
    member(http, owner, "VIEWER", "Katherine Johnson", "katherine@analytical.example")
    invite(http, owner, email="charles@analytical.example", role="MEMBER")
    invite(http, admin, email="mary@analytical.example", role="VIEWER")

    old = key(http, owner, "nightly-batch")
    unused = key(http, engineer, "staging-ingestion", access="ingest")
    ci = key(http, admin, "github-actions-ci", days=90)
    revoked = key(http, engineer, "laptop-dev")
    exposed = key(http, engineer, "notebook-experiments", access="read")
    metrics = key(http, admin, "grafana-metrics", access="read")
    prod = key(http, owner, "prod-ingestion", access="ingest")
    with database.transaction() as session:
        session.execute(
            update(ApiKey).where(ApiKey.id == old["id"]).values(created_at=datetime.now(UTC) - timedelta(days=124))
        )
        session.execute(
            update(ApiKey).where(ApiKey.id == unused["id"]).values(created_at=datetime.now(UTC) - timedelta(days=3))
        )
        # Requests per day before today (today's are counted as the seeding below uses the keys).
        today = datetime.now(UTC).date()
        for days_ago in range(1, 30):
            day = today - timedelta(days=days_ago)
            weekday = day.weekday() < 5
            busy = round((1800 if weekday else 450) * (1 + 0.25 * math.sin(days_ago)))
            session.add(ApiKeyUsage(api_key_id=prod["id"], day=day, requests=busy))
            session.add(ApiKeyUsage(api_key_id=metrics["id"], day=day, requests=288))
            if weekday:
                session.add(ApiKeyUsage(api_key_id=ci["id"], day=day, requests=40 + 13 * (days_ago % 4)))
            if days_ago % 7 == 2:
                session.add(ApiKeyUsage(api_key_id=exposed["id"], day=day, requests=75))
            session.add(ApiKeyUsage(api_key_id=old["id"], day=day, requests=12))
    http.delete(f"/api/org/keys/{revoked['id']}", headers=owner.headers).raise_for_status()
    # Rolled a day ago with a week's grace: the old key still works while the batch job moves over.
    rolled = http.post(f"/api/org/keys/{old['id']}/roll", json={"graceSeconds": 604_800}, headers=owner.headers)
    rolled.raise_for_status()
    http.post("/api/keys/report-leaked", json={"keys": [exposed["key"]]}).raise_for_status()

    headers = {"Authorization": f"Bearer {prod['key']}"}
    http.get("/api/auth/me", headers={"Authorization": f"Bearer {old['key']}"}).raise_for_status()
    agents = {}
    for name, description, model in (
        ("Support Triage", "Routes incoming tickets and drafts first replies.", "claude"),
        ("Invoice Reader", "Extracts line items from supplier invoices.", "gpt-4o"),
        ("Release Notes", "Summarises merged pull requests for the changelog.", "claude"),
    ):
        created = http.post(
            "/api/agents/get-or-create",
            json={"name": name, "description": description, "tags": ["prod"], "modelFamily": model},
            headers=headers,
        )
        created.raise_for_status()
        agents[name] = created.json()["id"]
    session_id = conversation(
        http,
        headers,
        agents["Support Triage"],
        [
            {"role": "SYSTEM", "content": "You triage support tickets for Analytical Engines."},
            {"role": "USER", "content": "My engine stops at card 42 with a carry error.", "inputTokens": 18},
            {
                "role": "ASSISTANT",
                "content": "Let me look up the ticket history for this customer.",
                "toolCalls": [{"name": "lookup_tickets", "arguments": {"customer": "babbage", "limit": 3}}],
                "latencyMs": 812,
                "outputTokens": 24,
            },
            {"role": "TOOL", "content": {"tickets": [{"id": 1832, "status": "closed", "topic": "carry lever"}]}},
            {
                "role": "ASSISTANT",
                "content": "This looks like the carry lever issue from ticket 1832. I've drafted a reply.",
                "latencyMs": 1290,
                "outputTokens": 41,
            },
        ],
    )
    for _ in range(2):
        conversation(
            http,
            headers,
            agents["Invoice Reader"],
            [
                {"role": "USER", "content": "Invoice INV-2291 attached.", "inputTokens": 9},
                {"role": "ASSISTANT", "content": "3 line items, total 1,204.50 EUR.", "latencyMs": 640},
            ],
        )
    return {"owner": owner, "agent_id": agents["Support Triage"], "session_id": session_id}


ONLY = set(sys.argv[1:])


def wanted(name: str) -> bool:
    return not ONLY or name.split("-")[0] in ONLY or name in ONLY


def shoot(page: Page, path: str, name: str, *, ready: str = "main h1", full_page: bool = False) -> None:
    if not wanted(name):
        return
    page.goto(path)
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
    print(f"docs/screenshots/{name}.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # Email "configured" (to a port where nothing listens: nothing is sent), so that the pages offer what an
    # install with email offers (Forgot password?); links then lead to PUBLIC_URL, opened here on the server.
    # The stand-in CI provider of the Trusted CI shots runs on loopback, which the server must be let fetch.
    env = {
        "PROVENANT_SMTP_URL": "smtp://127.0.0.1:9",
        "PROVENANT_PUBLIC_URL": PUBLIC_URL,
        "PROVENANT_ALLOWED_ISSUER_HOSTS": "127.0.0.1",
    }
    with (
        tempfile.TemporaryDirectory() as directory,
        serve(Path(directory), f"sqlite:///{directory}/p.db", env=env) as server,
    ):
        database = Database(f"sqlite:///{directory}/p.db")
        with httpx.Client(base_url=server.url, timeout=10) as http:
            seeded = seed(http, database)
            invitation = invite(http, seeded["owner"], email="new.hire@analytical.example", role="MEMBER")
            engineer = login(http, "alan@analytical.example")
            reset = http.post(f"/api/org/members/{engineer.user_id}/password-reset", headers=seeded["owner"].headers)
            reset.raise_for_status()
        database.dispose()
        owner: Account = seeded["owner"]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
            page = context.new_page()
            shoot(page, "/signin", "signin", ready="h1")
            shoot(page, "/register", "register", ready="h1", full_page=True)  # the form is taller than 800 px
            shoot(page, invitation["inviteLink"].removeprefix(PUBLIC_URL), "accept-invitation", ready="form")
            if wanted("forgot"):
                shoot(page, "/forgot-password", "forgot-password", ready="form")
                page.get_by_label("Email").fill("ada@analytical.example")
                page.get_by_role("button", name="Send reset link").click()
                page.wait_for_selector(".banner-success")
                page.screenshot(path=str(OUT / "forgot-password-sent.png"))
                print("docs/screenshots/forgot-password-sent.png")
            shoot(page, reset.json()["resetLink"].removeprefix(PUBLIC_URL), "reset-password", ready="form")
            page.goto("/signin")
            page.get_by_label("Email").fill(owner.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/agents")
            shoot(page, "/agents", "agents")
            shoot(page, f"/agents/{seeded['agent_id']}", "agent")
            shoot(page, "/sessions", "sessions")
            shoot(page, f"/sessions/{seeded['session_id']}", "session")
            shoot(page, "/audit", "audit")
            shoot(page, "/team", "team")
            if wanted("team"):
                page.get_by_role("button", name="Reset password of Alan Turing").click()
                page.get_by_role("dialog").get_by_role("button", name="Issue reset link").click()
                page.wait_for_selector(".banner-success")
                page.screenshot(path=str(OUT / "team-reset.png"))
                print("docs/screenshots/team-reset.png")
            shoot(page, "/account", "account")
            if wanted("keys"):
                keys_page(page)
            if wanted("trusted"):
                with httpx.Client(base_url=server.url, timeout=10) as http:
                    trusted_ci_section(page, http, owner)
            narrow = browser.new_context(base_url=server.url, viewport={"width": 1024, "height": 768})
            narrow_page = narrow.new_page()
            narrow_page.goto("/signin")
            narrow_page.evaluate("token => localStorage.setItem('provenant.token', token)", owner.token)
            for name in ("keys", "agents", "sessions", "audit"):
                shoot(narrow_page, f"/{name}", f"{name}-1024")
            if wanted("phone"):
                phone_pages(browser.new_context(base_url=server.url, viewport=PHONE).new_page(), owner, seeded)
            if wanted("two"):
                two_factor_pages(page, owner)  # last: it turns two-factor sign-in on for the owner
            browser.close()


def phone_pages(page: Page, owner: Account, seeded: dict[str, Any]) -> None:
    """A phone's screen (390 px) of the pages someone opens at night to revoke a leaked key: Sign in, the open
    Menu, API Keys (its table scrolls in its box, Revoke stays in view) and Revoke's question, Team, a session."""
    shoot(page, "/signin", "phone-signin", ready="h1")
    page.evaluate("token => localStorage.setItem('provenant.token', token)", owner.token)
    shoot(page, "/keys", "phone-keys")
    page.get_by_role("button", name="Menu").click()
    page.screenshot(path=str(OUT / "phone-menu.png"))
    print("docs/screenshots/phone-menu.png")
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Revoke prod-ingestion").click()
    page.screenshot(path=str(OUT / "phone-keys-revoke.png"))
    print("docs/screenshots/phone-keys-revoke.png")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    shoot(page, "/team", "phone-team")
    shoot(page, "/sessions", "phone-sessions")
    shoot(page, f"/sessions/{seeded['session_id']}", "phone-session")


def two_factor_pages(page: Page, owner: Account) -> None:
    """Account's two-factor setup and its recovery codes, then the sign-in page's code step."""
    page.goto("/account")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    page.wait_for_selector("img.qr-code")
    page.screenshot(path=str(OUT / "two-factor-setup.png"), full_page=True)
    secret = page.locator("code.totp-secret").inner_text()
    page.get_by_label("Enter the 6-digit code the app shows").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector(".recovery-codes")
    page.screenshot(path=str(OUT / "two-factor-codes.png"), full_page=True)
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("text=Enter the 6-digit code from your authenticator app")
    page.screenshot(path=str(OUT / "two-factor-signin.png"))
    print("docs/screenshots/two-factor-setup.png, two-factor-codes.png, two-factor-signin.png")


def keys_page(page: Page) -> None:
    """API Keys: the list (all keys, so that rolled and exposed ones show), New Key, Created, and Roll."""
    page.set_viewport_size({"width": 1280, "height": 1060})  # every key of the seed, the sidebar whole
    shoot(page, "/keys", "keys")
    page.get_by_role("button", name="All", exact=True).click()
    page.wait_for_selector("svg.daily-bars")
    page.screenshot(path=str(OUT / "keys.png"))
    page.get_by_role("button", name="New Key").first.click()
    page.get_by_label("Name").fill("support-agent-prod")
    page.get_by_label("Ingest only").check()
    page.screenshot(path=str(OUT / "keys-new.png"))
    print("docs/screenshots/keys-new.png")
    page.get_by_role("button", name="Create").click()
    page.wait_for_selector(".banner-success")
    page.screenshot(path=str(OUT / "keys-created.png"))
    print("docs/screenshots/keys-created.png")
    page.goto("/keys")
    page.get_by_role("button", name="Roll github-actions-ci").click()
    page.get_by_role("dialog").get_by_text("1 hour", exact=True).click()
    page.screenshot(path=str(OUT / "keys-roll.png"))
    print("docs/screenshots/keys-roll.png")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    page.set_viewport_size({"width": 1280, "height": 800})


def trusted_ci_section(page: Page, http: httpx.Client, owner: Account) -> None:
    """Trusted CI on API Keys: a policy for GitHub Actions and one for a stand-in issuer whose tokens two CI
    jobs exchanged, the keys those jobs hold, and New policy."""
    with running_issuer() as issuer:
        github = {"repository": "analytical/engine-agent", "environment": "evals"}
        for name, url, claims, access, ttl in (
            ("release evals", "https://token.actions.githubusercontent.com", github, "read", 1800),
            ("main branch CI", issuer.url, {"repository": "acme/agent", "ref": "refs/heads/main"}, "ingest", 900),
        ):
            body = {"name": name, "issuer": url, "audience": "provenant", "claims": claims, "access": access}
            created = http.post("/api/org/trust-policies", json=body | {"ttlSeconds": ttl}, headers=owner.headers)
            created.raise_for_status()
        for run in ("7012345678", "7012345990"):
            http.post("/api/auth/token-exchange", json={"idToken": issuer.token(run_id=run)}).raise_for_status()
        page.goto("/keys")
        section = page.locator("section.trusted-ci")
        page.get_by_role("table", name="Keys held by CI jobs").wait_for()
        section.screenshot(path=str(OUT / "trusted-ci.png"))
        print("docs/screenshots/trusted-ci.png")
        section.get_by_role("button", name="New policy").click()
        page.get_by_label("Repository", exact=True).fill("analytical/engine-agent")
        page.locator("form.form-card").screenshot(path=str(OUT / "trusted-ci-new-policy.png"))
        print("docs/screenshots/trusted-ci-new-policy.png")


if __name__ == "__main__":
    main()
