"""What a person does in the dashboard, in a few words each: register, sign in, read storage."""

import json
import re

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, Account, unique

TOKEN_KEY = "provenant.token"


def register_in_page(page: Page, *, name: str = "Ada Lovelace", org: str = "Analytical Engines") -> str:
    """Fills Register as a person would (the slug is the derived one, made unique); returns the email."""
    email = f"{unique('ada')}@example.com"
    page.goto("/register")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organization").fill(org)
    page.get_by_label("Slug").fill(unique("engines"))
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="API Keys", level=1)).to_be_visible()
    return email


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def open_as(page: Page, account: Account, path: str) -> None:
    """Opens ``path`` signed in as ``account`` (its token put where Sign in puts it)."""
    open_with_token(page, account.token, path)


def open_with_token(page: Page, token: str, path: str) -> None:
    """Opens ``path`` with ``token`` in storage, as if Sign in had put it there."""
    # Written by a script that runs before the app's, in this one document only: no other page of the
    # origin has to be opened first just to write it (booting the app twice cost a few tenths of a CPU-second).
    with page.add_init_script(f"localStorage.setItem({json.dumps(TOKEN_KEY)}, {json.dumps(token)})"):
        page.goto(path)


def open_settled_keys_as(page: Page, account: Account) -> None:
    """Opens API Keys as ``account`` (a new one, without keys) and waits until the list has loaded: the tests
    that end the session next expect its own message, and a request of the page's still on its way would be
    answered 401 and end the session with another."""
    open_as(page, account, "/keys")
    expect(page.get_by_text("No keys yet — create one to use the SDK")).to_be_visible()


def stored_token(page: Page) -> str | None:
    return page.evaluate("key => localStorage.getItem(key)", TOKEN_KEY)  # type: ignore[no-any-return]


def storage_text(page: Page) -> str:
    """Every key and value of localStorage and sessionStorage, as one string to search."""
    return page.evaluate(  # type: ignore[no-any-return]
        """() => [localStorage, sessionStorage]
            .flatMap(store => Object.keys(store).map(key => key + '=' + store.getItem(key)))
            .join('\\n')"""
    )


XSS = "<img src=x onerror=window.__pwned=1>"


def assert_nothing_ran(page: Page) -> None:
    """The XSS probe set window.__pwned if any API value had been parsed as HTML."""
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("main img").count() == 0


def assert_no_stray_words(page: Page) -> None:
    """No "null" or "undefined" printed where an optional part of a page was left out."""
    text = page.locator("body").inner_text()
    assert not re.search(r"\b(null|undefined|NaN|\[object Object\])\b", text), text
