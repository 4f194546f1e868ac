"""Accounts made the way a user makes them: register over HTTP, then create a pk_live_ key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Account:
    base_url: str
    jwt: str
    api_key: str
    email: str
    org_id: str


def register(base_url: str) -> tuple[str, str, str]:
    """A fresh organization with its OWNER; returns (jwt, email, org id)."""
    tag = uuid.uuid4().hex[:12]
    email = f"owner-{tag}@example.com"
    body = {
        "name": "SDK Tester",
        "email": email,
        "password": PASSWORD,
        "orgName": f"SDK {tag}",
        "orgSlug": f"sdk-{tag}",
    }
    response = httpx.post(f"{base_url}/api/auth/register", json=body, timeout=30)
    assert response.status_code == 201, response.text
    data = response.json()
    return data["token"], email, data["org"]["id"]


def create_key(base_url: str, jwt: str, name: str = "sdk-tests") -> str:
    response = httpx.post(
        f"{base_url}/api/org/keys",
        json={"name": name},
        headers={"Authorization": f"Bearer {jwt}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    key = response.json()["key"]
    assert key.startswith("pk_live_")
    return str(key)


def new_account(base_url: str) -> Account:
    jwt, email, org_id = register(base_url)
    return Account(base_url, jwt, create_key(base_url, jwt), email, org_id)


def viewer_key(account: Account) -> str:
    """Invite a VIEWER into the account's org, accept as a new user, and return a key that user created."""
    owner = {"Authorization": f"Bearer {account.jwt}"}
    email = f"viewer-{uuid.uuid4().hex[:12]}@example.com"
    response = httpx.post(
        f"{account.base_url}/api/org/invitations",
        json={"email": email, "role": "VIEWER"},
        headers=owner,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    accept = {
        "token": _invitation_token(response.json()["inviteLink"]),
        "name": "Viewer",
        "password": PASSWORD,
    }
    response = httpx.post(f"{account.base_url}/api/auth/accept-invitation", json=accept, timeout=30)
    assert response.status_code == 201, response.text
    assert response.json()["user"]["role"] == "VIEWER"
    return create_key(account.base_url, response.json()["token"], name="viewer")


def _invitation_token(link: str) -> str:
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    if "token" in query:
        return query["token"][0]
    return parts.path.rstrip("/").rsplit("/", 1)[-1]
