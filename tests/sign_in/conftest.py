from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from provenant.config import Settings
from tests.factories import Account
from tests.oidc_issuer import CLIENT_ID, CLIENT_SECRET, Issuer, running_issuer

DOMAIN = "acme.example.com"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The app may fetch from the stand-in provider on loopback, and from nowhere else private."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        allowed_issuer_hosts=["127.0.0.1"],
        registrations_per_ip=1_000_000,
    )


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running_issuer("RS256") as running:
        yield running


def configure_sso(client: TestClient, owner: Account, issuer: Issuer, **fields: Any) -> dict[str, Any]:
    body = {
        "issuer": issuer.url,
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        "domains": [DOMAIN],
        "defaultRole": "MEMBER",
        "enforce": False,
    } | fields
    response = client.put("/api/org/sso", json=body, headers=owner.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def query_of(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def start(client: TestClient, email: str) -> httpx.Response:
    return client.get("/api/auth/sso/start", params={"email": email}, follow_redirects=False)


def at_provider(location: str) -> str:
    """The provider's answer to the browser sent to it: where it redirects back (the callback URL)."""
    answer = httpx.get(location, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def callback(client: TestClient, url: str) -> httpx.Response:
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def sign_in_through_provider(client: TestClient, email: str) -> httpx.Response:
    """The whole redirect dance up to /sso-complete: the answer of the server's callback."""
    started = start(client, email)
    assert started.status_code == 302, started.text
    return callback(client, at_provider(started.headers["location"]))


def completed_code(response: httpx.Response) -> str:
    location = response.headers["location"]
    assert location.startswith("/sso-complete?code="), location
    return query_of(location)["code"]


def exchange(client: TestClient, code: str) -> httpx.Response:
    return client.post("/api/auth/sso/exchange", json={"code": code})
