"""Headers of API responses, CORS for listed origins only, and docs that load nothing from elsewhere."""

import re

import httpx
import pytest
from fastapi.testclient import TestClient

from provenant.app import create_app
from provenant.config import Settings
from provenant.dashboard.routes import SECURITY_HEADERS as DASHBOARD_HEADERS
from provenant.db import Database
from provenant.headers import CONTENT_SECURITY_POLICY
from tests.factories import register
from tests.servers import LiveServer
from tests.test_app import drop_table

ALLOWED = "https://app.example.com"


API_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    # An answer is data, never a page: rendered anyway, it runs, loads and frames nothing.
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}


def assert_api_headers(response: httpx.Response) -> None:
    for name, value in API_HEADERS.items():
        assert response.headers.get_list(name) == [value], (name, response.headers.get_list(name))
    assert len(response.headers.get_list("x-request-id")) == 1


def test_every_kind_of_api_answer_carries_the_headers(client: TestClient) -> None:
    owner = register(client)
    created = client.post("/api/org/keys", json={"name": "ci"}, headers=owner.headers)
    answers = [
        created,  # carries a key
        client.get("/api/auth/me", headers=owner.headers),  # personal data
        client.get("/api/auth/me"),  # 401
        client.get("/api/nothing-here"),  # 404
        client.put("/api/agents", json={}),  # 405
        client.post("/api/agents", json={}, headers=owner.headers),  # 422
        client.get("/api/health"),
        client.get("/api/openapi.json"),
    ]
    for response in answers:
        assert_api_headers(response)
        assert "server" not in response.headers


def test_a_500_carries_the_headers_too_and_each_once(client: TestClient, database: Database) -> None:
    """A 500 is answered from outside every middleware (the driver's own error: the agents list reads through
    the raw connection) or from inside them (SQLAlchemy's error, which has a handler of its own so that a busy
    database is a 503): the second got ``nosniff, nosniff`` and two request ids."""
    owner = register(client)
    drop_table(database, "agents")
    drop_table(database, "sessions")
    for path in ("/api/agents", "/api/sessions"):
        response = client.get(path, headers=owner.headers)
        assert response.status_code == 500
        assert_api_headers(response)
        assert response.json()["requestId"] == response.headers["x-request-id"]


def test_the_docs_page_keeps_its_own_policy(client: TestClient) -> None:
    """Swagger UI runs its own script and style: the API's ``default-src 'none'`` would blank it."""
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert page.headers.get_list("content-security-policy") == [CONTENT_SECURITY_POLICY]


def test_dashboard_responses_keep_their_own_headers(client: TestClient) -> None:
    response = client.get("/keys")
    assert response.status_code == 200
    for name, value in DASHBOARD_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]  # not added twice


def test_the_server_sends_no_banner(live_server: LiveServer) -> None:
    for path in ("/api/health", "/api/auth/me", "/"):
        response = httpx.get(f"{live_server.url}{path}")
        assert "server" not in response.headers, path
    assert_api_headers(httpx.get(f"{live_server.url}/api/health"))


def test_a_405_says_which_methods_the_path_allows(client: TestClient) -> None:
    response = client.put("/api/org/keys", json={})
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}
    assert response.json()["code"] == "method_not_allowed"
    single = client.post("/api/auth/me")
    assert single.status_code == 405
    assert single.headers["allow"] == "GET"


@pytest.mark.parametrize("method", ["OPTIONS", "PUT", "PATCH", "DELETE"])
def test_a_path_of_its_own_allows_its_own_methods_not_a_templates(client: TestClient, method: str) -> None:
    """``/api/agents/{agent_id}`` matches ``/api/agents/get-or-create`` too; its GET, PATCH and DELETE were named in
    the 405's ``Allow`` (schemathesis' ST205). A PATCH or DELETE there is still the agent route's, which finds no
    such agent: what a path answers is unchanged, only what its 405 says."""
    owner = register(client)
    response = client.request(method, "/api/agents/get-or-create", json={}, headers=owner.headers)
    if method in ("PATCH", "DELETE"):
        assert response.status_code == 404, response.text
        return
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


# --- CORS ---------------------------------------------------------------------------------------


def cors_client(settings: Settings, origins: list[str]) -> TestClient:
    with_origins = Settings(data_dir=settings.data_dir, database_url=settings.database_url, cors_origins=origins)
    return TestClient(create_app(with_origins), raise_server_exceptions=False)


def preflight(client: TestClient, origin: str) -> httpx.Response:
    return client.options(
        "/api/agents",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_a_preflight_from_a_listed_origin_is_allowed(settings: Settings, database: Database) -> None:
    with cors_client(settings, [ALLOWED]) as client:
        response = preflight(client, ALLOWED)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert "authorization" in response.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-credentials" not in response.headers
        owner = register(client)
        actual = client.get("/api/auth/me", headers={**owner.headers, "Origin": ALLOWED})
        assert actual.status_code == 200
        assert actual.headers["access-control-allow-origin"] == ALLOWED
        assert "x-request-id" in actual.headers["access-control-expose-headers"].lower()


def test_a_preflight_from_another_origin_is_refused(settings: Settings, database: Database) -> None:
    with cors_client(settings, [ALLOWED]) as client:
        response = preflight(client, "https://evil.example.com")
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers
        actual = client.get("/api/health", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in actual.headers


def test_no_origin_is_allowed_by_default(client: TestClient) -> None:
    response = preflight(client, ALLOWED)
    assert "access-control-allow-origin" not in response.headers
    assert response.status_code == 405


def test_a_star_allows_any_origin_but_never_credentials(settings: Settings, database: Database) -> None:
    with cors_client(settings, ["*"]) as client:
        response = preflight(client, "https://anywhere.example")
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers
        cookie = client.get("/api/health", headers={"Origin": "https://anywhere.example", "Cookie": "a=b"})
        assert cookie.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in cookie.headers


@pytest.mark.parametrize("origin", ["app.example.com", "https://app.example.com/", "https://x/y", "ftp://x"])
def test_a_setting_that_is_not_an_origin_is_refused(origin: str) -> None:
    with pytest.raises(ValueError, match="PROVENANT_CORS_ORIGINS"):
        Settings(cors_origins=[origin])


def test_origins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVENANT_CORS_ORIGINS", "https://a.example, http://localhost:3000")
    assert Settings().cors_origins == ["https://a.example", "http://localhost:3000"]


# --- /api/docs ----------------------------------------------------------------------------------

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""")


def test_the_docs_load_only_assets_served_here(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert "http" not in csp and "unsafe" not in csp
    assert "<script>" not in page.text.replace(" ", "")  # no inline script: the CSP would block it
    assert not EXTERNAL.search(page.text)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 3
    for asset in assets:
        assert asset.startswith("/api/docs/"), asset
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["x-content-type-options"] == "nosniff"
        assert len(response.content) > 0
        if asset.endswith(".css"):
            assert not EXTERNAL.search(response.text), asset
    init = client.get("/api/docs/init.js").text
    assert "SwaggerUIBundle(" in init
    assert "validatorUrl: null" in init  # else Swagger UI sends the document to validator.swagger.io
    assert "http" not in init
    assert "SwaggerUIBundle" in client.get("/api/docs/swagger-ui-bundle.js").text


def test_docs_assets_are_revalidated_not_stored_forever(client: TestClient) -> None:
    response = client.get("/api/docs/swagger-ui.css")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["etag"]
    again = client.get("/api/docs/swagger-ui.css", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
