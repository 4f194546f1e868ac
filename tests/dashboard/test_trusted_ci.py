"""Trusted CI on the API Keys page, in Chromium: the policies, New policy with its GitHub Actions, GitLab and
custom presets, and the keys CI jobs hold now, shown apart from the long-lived ones."""

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.dashboard.helpers import XSS, assert_no_stray_words, assert_nothing_ran, open_as
from tests.dashboard.test_keys import row
from tests.factories import Account, invite_and_accept, register
from tests.oidc_issuer import running_issuer

POLICIES = "/api/org/trust-policies"


def _policies(http: httpx.Client, account: Account) -> list[dict[str, Any]]:
    return list(http.get(POLICIES, headers=account.headers).json())


def _section(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("region", name="Trusted CI")


def test_a_github_actions_policy_is_made_from_a_repository_and_a_branch(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    open_as(page, owner, "/keys")
    section = _section(page)
    expect(section.get_by_text("No policies yet")).to_be_visible()
    section.get_by_role("button", name="New policy").click()
    expect(page.get_by_label("GitHub Actions", exact=True)).to_be_checked()
    expect(page.get_by_label("Issuer", exact=True)).to_have_value("https://token.actions.githubusercontent.com")
    expect(page.get_by_label("Issuer", exact=True)).not_to_be_editable()
    page.get_by_label("Repository", exact=True).fill("acme/agent")
    expect(page.get_by_label("Branch", exact=True)).to_have_value("main")
    page.get_by_role("button", name="Create policy").click()

    policy_row = section.locator("tbody tr").filter(has_text="main branch CI")
    expect(policy_row).to_contain_text("GitHub Actions")
    expect(policy_row).to_contain_text("repository = acme/agent")
    expect(policy_row).to_contain_text("ref = refs/heads/main")
    expect(policy_row).to_contain_text("Ingest only")
    expect(policy_row).to_contain_text("15 min")
    (created,) = _policies(http, owner)
    assert created["claims"] == {"repository": "acme/agent", "ref": "refs/heads/main"}
    assert created["audience"] == "provenant" and created["access"] == "ingest" and created["ttlSeconds"] == 900
    assert_no_stray_words(page)


def test_a_gitlab_policy_names_the_project_and_a_policy_the_server_refuses_says_why(
    page: Page, http: httpx.Client
) -> None:
    owner = register(http)
    open_as(page, owner, "/keys")
    _section(page).get_by_role("button", name="New policy").click()
    page.get_by_label("GitLab", exact=True).check()
    expect(page.get_by_label("Issuer", exact=True)).to_have_value("https://gitlab.com")
    page.get_by_label("Branch", exact=True).fill("")
    page.get_by_label("Project", exact=True).fill("*")
    page.get_by_role("button", name="Create policy").click()
    expect(page.get_by_role("alert")).to_contain_text("a lone * matches anything")
    page.get_by_label("Project", exact=True).fill("acme/agent")
    page.get_by_label("Branch", exact=True).fill("release")
    page.get_by_label("Keys live", exact=True).select_option("300")
    page.get_by_role("button", name="Create policy").click()
    expect(_section(page).locator("tbody tr").filter(has_text="GitLab")).to_contain_text("5 min")
    (created,) = _policies(http, owner)
    assert created["issuer"] == "https://gitlab.com"
    assert created["claims"] == {"project_path": "acme/agent", "ref_type": "branch", "ref": "release"}


def test_ci_jobs_keys_are_shown_apart_with_their_policy_and_expiry_and_stop_with_it(
    page: Page, http: httpx.Client
) -> None:
    owner = register(http)
    personal = http.post("/api/org/keys", json={"name": "laptop"}, headers=owner.headers)
    assert personal.status_code == 201
    with running_issuer() as issuer:
        open_as(page, owner, "/keys")
        _section(page).get_by_role("button", name="New policy").click()
        page.get_by_label("Another issuer", exact=True).check()
        page.get_by_label("Issuer", exact=True).fill(issuer.url)
        page.get_by_label("Claims", exact=True).fill("repository=acme/agent\nref=refs/heads/main")
        page.get_by_role("button", name="Create policy").click()
        expect(_section(page).locator("tbody tr").filter(has_text="main branch CI")).to_contain_text("127.0.0.1")
        exchanged = http.post("/api/auth/token-exchange", json={"idToken": issuer.token()})
        assert exchanged.status_code == 201, exchanged.text

        page.reload()
        ci_keys = _section(page).get_by_role("table", name="Keys held by CI jobs")
        ci_row = ci_keys.locator("tbody tr")
        expect(ci_row).to_have_count(1)
        expect(ci_row).to_contain_text(re.compile(r"via main branch CI, expires in 1[45] minutes"))
        expect(ci_row).to_contain_text(f"pk_live_{exchanged.json()['key'][8:16]}…")
        expect(row(page, "laptop")).to_be_visible()
        expect(page.get_by_role("table", name="API keys").locator("tbody tr")).to_have_count(
            1
        )  # the CI key is not there

        _section(page).get_by_role("button", name="Delete policy main branch CI").click()
        page.get_by_role("dialog").get_by_role("button", name="Delete policy").click()
        expect(_section(page).get_by_text("No CI job holds a key now.")).to_be_visible()
        expect(_section(page).get_by_text("No policies yet")).to_be_visible()
    me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {exchanged.json()['key']}"})
    assert me.json()["code"] == "api_key_revoked"


def test_policy_fields_are_shown_as_text(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    body = {
        "name": XSS,
        "issuer": "https://token.actions.githubusercontent.com",
        "audience": XSS,
        "claims": {"repository": XSS},
        "access": "read",
    }
    assert http.post(POLICIES, json=body, headers=owner.headers).status_code == 201
    open_as(page, owner, "/keys")
    expect(_section(page).locator("tbody tr")).to_contain_text(XSS)
    assert_nothing_ran(page)


def test_a_member_sees_no_policies_and_no_new_policy(page: Page, http: httpx.Client) -> None:
    owner = register(http)
    member = invite_and_accept(http, owner, "MEMBER")
    open_as(page, member, "/keys")
    section = _section(page)
    expect(section.get_by_text("No CI job holds a key now.")).to_be_visible()
    expect(section.get_by_role("button", name="New policy")).to_have_count(0)
    expect(section.get_by_role("heading", name="Policies")).to_have_count(0)
