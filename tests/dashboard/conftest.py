"""The dashboard in Debian's Chromium, driven by Playwright, against a real `provenant serve`.

Every server here runs on a SQLite file: the dashboard only speaks the HTTP API, whose behaviour on
PostgreSQL the rest of the suite covers, so a second database would test nothing more here.
One browser serves the package and one server the whole session (every test makes its own organization,
so nothing one test writes shows in another's pages); each test opens its own browser context (fresh
localStorage), so tests share no signed-in state.
"""

import shutil
import subprocess
from collections.abc import Iterator
from importlib.metadata import version

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from provenant.db import Database
from tests.servers import LiveServer, serve

CHROMIUM = "/usr/bin/chromium"
# Chromium keeps only the last --disable-features it is given, so ours repeats the list Playwright passes
# (chromiumSwitches.ts of the version pinned in pyproject.toml) and adds the address bar's dropdown: a
# WebUI page that each new window (each browser context) loads in a renderer of its own and keeps busy
# while the tab navigates, from half a CPU-second to a whole one a test, though a headless window shows
# no address bar and no page can reach it.
PLAYWRIGHT = "1.65.2"
PLAYWRIGHTS_DISABLED_FEATURES = [
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
]
OMNIBOX_DROPDOWN = ["WebUIOmniboxPopup", "WebUIOmniboxAimPopup"]


# Package scope, not session: Playwright's sync API keeps an asyncio loop running in this thread while
# it lives, and the tests after this package (the SDK's async client) need to run loops of their own.
@pytest.fixture(scope="package")
def playwright_instance(request: pytest.FixtureRequest) -> Iterator[Playwright]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (scripts/test does it)")
    version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\ndashboard tests run in {version}")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if (installed := version("playwright")) != PLAYWRIGHT:
        pytest.fail(f"Playwright {installed}: copy its disabled features into PLAYWRIGHTS_DISABLED_FEATURES")
    disabled = ",".join(PLAYWRIGHTS_DISABLED_FEATURES + OMNIBOX_DROPDOWN)
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=[f"--disable-features={disabled}"])
    yield browser
    browser.close()


# Session scope: pytest-xdist's loadscope hands a worker the dashboard's modules between others' (longest
# first), so a package- or module-scoped server would start again (a CPU-second) at each of them.
@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("dashboard")
    # Trusted CI's page test exchanges tokens of a stand-in issuer on loopback, which the server must be let fetch.
    allowed = {"PROVENANT_ALLOWED_ISSUER_HOSTS": "127.0.0.1"}
    with serve(directory, f"sqlite:///{directory / 'provenant.db'}", env=allowed) as live:
        yield live


@pytest.fixture(scope="session")
def server_database(server: LiveServer) -> Iterator[Database]:
    """The server's own database, for the few facts a test must set underneath (a key's age)."""
    db = Database(f"sqlite:///{server.data_dir.parent / 'provenant.db'}")
    yield db
    db.dispose()


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


class PageErrors(list[str]):
    """Uncaught script errors and any alert()/confirm() a page opened: a test ends with none."""


@pytest.fixture
def context(browser: Browser, server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(5000)
    yield context
    context.close()


def watch(page: Page) -> PageErrors:
    errors = PageErrors()
    page.on("pageerror", lambda error: errors.append(f"script error: {error}"))
    page.on("dialog", lambda dialog: _record_dialog(errors, dialog))
    return errors


def _record_dialog(errors: PageErrors, dialog) -> None:  # type: ignore[no-untyped-def]
    if dialog.type == "beforeunload":
        return  # the page asks before leaving; the test that cares listens itself
    errors.append(f"{dialog.type} dialog: {dialog.message}")
    dialog.dismiss()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors = watch(page)
    yield page
    assert not errors, errors


@pytest.fixture
def second_page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    """Another person's browser: a context of its own, so nothing of the first person's storage."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(5000)
    page = context.new_page()
    errors = watch(page)
    yield page
    context.close()
    assert not errors, errors
