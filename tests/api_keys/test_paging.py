"""The key list pages like every list (the contract's "Lists that page")."""

import pytest
from fastapi.testclient import TestClient

from tests.factories import Account, create_key, next_url, register

KEYS = "http://testserver/api/org/keys"


@pytest.fixture
def owner(client: TestClient) -> Account:
    return register(client)


def test_paging_while_keys_are_created_returns_every_existing_key_once(client: TestClient, owner: Account) -> None:
    for number in range(9):
        create_key(client, owner, name=f"key {number}")
    revoked = client.get("/api/org/keys", headers=owner.headers).json()[0]["id"]
    client.delete(f"/api/org/keys/{revoked}", headers=owner.headers)
    existing = {key["id"] for key in client.get("/api/org/keys?includeRevoked=true", headers=owner.headers).json()}

    seen: list[str] = []
    url: str | None = "/api/org/keys?includeRevoked=true&limit=4"
    while url:
        response = client.get(url, headers=owner.headers)
        assert response.status_code == 200, response.text
        seen += [key["id"] for key in response.json()]
        create_key(client, owner, name="created while paging")
        url = next_url(response, to=KEYS)
        assert url is None or "includeRevoked=true" in url

    assert len(seen) == len(set(seen)) == 9
    assert set(seen) == existing


def test_the_default_page_holds_fifty_keys_and_links_the_rest(client: TestClient, owner: Account) -> None:
    for number in range(51):
        create_key(client, owner, name=f"key {number}")
    first = client.get("/api/org/keys", headers=owner.headers)
    assert len(first.json()) == 50
    rest_url = next_url(first, to=KEYS)
    assert rest_url
    rest = client.get(rest_url, headers=owner.headers)
    assert len(rest.json()) == 1
    assert "link" not in rest.headers
