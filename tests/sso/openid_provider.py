"""A certified OpenID Provider on loopback: panva's oidc-provider (tests/oidc_provider/provider.mjs says what
it serves), in a Node process, and the person at its sign-in page, driven over plain HTTP.

Its accounts come from the email signed in with; the local part chooses what a test wants wrong:
``unverified…`` (``email_verified: false``), ``unstated…`` (no ``email_verified``), ``wrong-nonce…``,
``wrong-aud…``, ``forged…`` (an ID token signed by a key the provider does not publish).
"""

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx

from tests.servers import free_port

PROVIDER_DIR = Path(__file__).parents[1] / "oidc_provider"
CLIENT_ID = "provenant"
CLIENT_SECRET = "provider-issued-client-secret"
CALLBACK_PATH = "/api/auth/sso/callback"


@dataclass
class OpenIDProvider:
    issuer: str
    client_id: str
    client_secret: str
    log_path: Path
    process: "subprocess.Popen[bytes]"

    def rotate_keys(self) -> str:
        """The provider signs with a new key under a new kid from now on (the old key stays published)."""
        return str(httpx.post(f"{self.issuer}/_test/rotate", timeout=10).json()["kid"])

    def fetches(self, path: str) -> int:
        """How many times ``path`` was fetched with GET (``/jwks``, ``/.well-known/openid-configuration``)."""
        counts = httpx.get(f"{self.issuer}/_test/requests", timeout=10).json()
        return int(counts.get(f"GET {path}", 0))

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_provider(directory: Path, redirect_uris: list[str]) -> Iterator[OpenIDProvider]:
    """The provider, its one client (the server under test) allowed ``redirect_uris``; stopped on exit."""
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError(f"oidc-provider is not installed: `npm ci` in {PROVIDER_DIR} (scripts/test does it)")
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH: the test OpenID Provider runs on Node.js 20 or later")
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = {
        "PATH": "/usr/bin:/bin",
        "PORT": str(port),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URIS": ",".join(redirect_uris),
    }
    log_path = directory / "openid-provider.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [node, "provider.mjs"], cwd=PROVIDER_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    provider = OpenIDProvider(f"http://127.0.0.1:{port}", CLIENT_ID, CLIENT_SECRET, log_path, process)
    try:
        _wait_for_discovery(provider)
        yield provider
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_discovery(provider: OpenIDProvider, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if provider.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the OpenID Provider did not start:\n{provider.log()}")
        time.sleep(0.1)


# ---- the browser's part, over plain HTTP ----------------------------------------------------------------


def to_callback(browser: httpx.Client, server_url: str, email: str) -> str:
    """What a browser does from Sign in with SSO to the provider's answer: starts at the server with ``email``,
    signs in at the provider's page as ``email``, and returns the callback URL the provider sends it to
    (``…/api/auth/sso/callback?code&state``), not yet followed. ``browser`` keeps the cookies, as a browser."""
    response = browser.get(f"{server_url}/api/auth/sso/start", params={"email": email})
    assert response.status_code == 302, response.text
    response = _follow(browser, response, until=server_url + CALLBACK_PATH)
    if response.status_code == 200:  # the provider's sign-in page (skipped when its session already knows them)
        action = re.search(r'<form method="post" action="([^"]+)"', response.text)
        assert action, response.text
        response = browser.post(urljoin(str(response.url), action[1]), data={"email": email})
        response = _follow(browser, response, until=server_url + CALLBACK_PATH)
    location = response.headers.get("location", "")
    assert location.startswith(server_url + CALLBACK_PATH), (response.status_code, location, response.text)
    return location


def _follow(browser: httpx.Client, response: httpx.Response, *, until: str) -> httpx.Response:
    """Follows redirects until one leads to ``until`` (that response is returned) or one is not a redirect."""
    while response.is_redirect and not response.headers["location"].startswith(until):
        response = browser.get(urljoin(str(response.url), response.headers["location"]))
    return response


def sign_in(browser: httpx.Client, server_url: str, email: str) -> httpx.Response:
    """The whole dance up to the dashboard's ``/sso-complete?…``: the server's answer to the callback."""
    return browser.get(to_callback(browser, server_url, email))
