"""The dashboard is served by the server itself: files, deep links, headers, and the API's JSON 404 intact."""

import http.client
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.servers import LiveServer

STATIC = Path(__file__).parents[2] / "src" / "provenant" / "dashboard" / "static"

DEEP_LINKS = [
    "/",
    "/signin",
    "/register",
    "/accept-invitation?token=abc",
    "/forgot-password",
    "/reset-password?token=abc",
    "/keys",
    "/team",
    "/agents",
    "/agents/7b0c3f0e-1a2b-4c3d-8e9f-000000000000",
    "/sessions",
    "/sessions/7b0c3f0e-1a2b-4c3d-8e9f-000000000000",
    "/audit",
]


@pytest.mark.parametrize("path", DEEP_LINKS)
def test_every_deep_link_answers_the_app(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == (STATIC / "index.html").read_text()


def test_dashboard_responses_carry_a_strict_policy(http: httpx.Client) -> None:
    for path in ("/keys", "/app.js", "/style.css"):
        headers = http.get(path).headers
        policy = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
        assert policy["default-src"] == "'self'"
        assert policy["script-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert policy["object-src"] == "'none'"
        assert "unsafe" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_modules_are_served_as_javascript(http: httpx.Client) -> None:
    for path in ("/app.js", "/api.js", "/dom.js", "/pages/keys.js"):
        response = http.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/javascript"), path


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
@pytest.mark.parametrize("path", ["/api/nothing-here", "/api/org/nothing", "/api"])
def test_unknown_api_paths_still_answer_the_json_404(http: httpx.Client, method: str, path: str) -> None:
    response = http.request(method, path)
    assert response.status_code == 404
    assert response.json() == {"error": "Not found.", "code": "not_found"}


def test_a_missing_asset_is_a_404_not_the_app(http: httpx.Client) -> None:
    response = http.get("/pages/no-such-page.js")
    assert response.status_code == 404
    assert "<html" not in response.text


@pytest.mark.parametrize("path", ["/../routes.py", "/..%2froutes.py", "/pages/../../routes.py", "/%2e%2e/__init__.py"])
def test_nothing_outside_the_static_folder_is_served(server: LiveServer, path: str) -> None:
    # http.client sends the path exactly as written (httpx would normalise the dots away).
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read().decode(errors="replace")
    connection.close()
    assert "install_dashboard" not in body and "DashboardRoute" not in body
    assert response.status in (200, 404)  # 200 only as the app's own index.html
    if response.status == 200:
        assert body == (STATIC / "index.html").read_text()


HTML_SINKS = re.compile(
    r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function"
    r"|DOMParser|createContextualFragment"
)


def test_no_inline_script_and_no_html_parsing_of_values() -> None:
    """The CSP forbids inline script; the code never parses strings as HTML, so API values stay text."""
    index = (STATIC / "index.html").read_text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", index, flags=re.S)
    assert scripts, "index.html loads app.js"
    assert all('src="' in attributes and not body.strip() for attributes, body in scripts)
    assert not re.search(r"\son[a-z]+\s*=", index), "no inline event handlers"
    sources = sorted(STATIC.rglob("*.js"))
    assert len(sources) >= 10
    for source in sources:
        code = source.read_text()
        assert not HTML_SINKS.search(code), f"{source.name}: {HTML_SINKS.search(code)}"


def test_index_links_the_data_pages_stylesheet() -> None:
    index = (STATIC / "index.html").read_text()
    assert 'href="/style.css"' in index
    assert 'href="/pages/data.css"' in index
