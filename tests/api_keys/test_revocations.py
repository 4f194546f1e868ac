"""Every way a single key is revoked writes one audit shape (api_keys.service.revoke): the key before and after,
in the key's org, under the action the contract names for the way (`apikey.revoke`, `apikey.revoked_leaked`)."""

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Account, register

KEYS = "/api/org/keys"


def _create(client: TestClient, account: Account, name: str) -> dict[str, Any]:
    response = client.post(KEYS, json={"name": name}, headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _entry(client: TestClient, owner: Account, action: str, key_id: str) -> dict[str, Any]:
    entries = client.get("/api/audit", params={"action": action, "resourceId": key_id}, headers=owner.headers)
    (entry,) = entries.json()
    return dict(entry)


def test_a_revoked_and_a_reported_key_are_audited_alike(client: TestClient) -> None:
    owner = register(client)
    revoked, reported = _create(client, owner, "laptop"), _create(client, owner, "pasted")

    assert client.delete(f"{KEYS}/{revoked['id']}", headers=owner.headers).status_code == 200
    assert client.post("/api/keys/report-leaked", json={"keys": [reported["key"]]}).status_code == 202

    by_hand = _entry(client, owner, "apikey.revoke", revoked["id"])
    by_report = _entry(client, owner, "apikey.revoked_leaked", reported["id"])
    for entry, key, reason in ((by_hand, revoked, "revoked"), (by_report, reported, "leaked")):
        assert entry["resourceType"] == "api_key"
        assert set(entry["before"]) == set(entry["after"])
        assert (entry["before"]["revokedAt"], entry["before"]["revokedReason"]) == (None, None)
        assert entry["after"]["revokedAt"] is not None and entry["after"]["revokedReason"] == reason
        assert entry["after"]["name"] == key["name"]
        assert key["key"] not in str(entry)
    assert set(by_hand["after"]) == set(by_report["after"])
    assert by_hand["user"]["id"] == owner.user_id and by_report["user"] is None  # nobody of the org reported it


def test_revoking_again_writes_nothing(client: TestClient) -> None:
    owner = register(client)
    key = _create(client, owner, "twice")
    for _ in range(2):
        assert client.delete(f"{KEYS}/{key['id']}", headers=owner.headers).status_code == 200
    client.post("/api/keys/report-leaked", json={"keys": [key["key"]]})
    entries = client.get("/api/audit", params={"resourceId": key["id"]}, headers=owner.headers).json()
    assert [entry["action"] for entry in entries] == ["apikey.revoke", "apikey.create"]
