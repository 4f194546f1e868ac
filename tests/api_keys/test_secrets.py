"""A key is shown once, in its 201, and then never again: not by the API, the database or the log."""

import hashlib
import re

import httpx
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import add_member, bearer, persisted_bytes, register, unique
from tests.servers import LiveServer


def _secret_forms(key: str) -> list[str]:
    """The key, its random part, and its SHA-256: none may be shown once the 201 is gone."""
    return [key, key.removeprefix("pk_live_"), hashlib.sha256(key.encode()).hexdigest()]


def test_no_response_after_the_201_carries_the_key_or_its_hash(client: TestClient, database: Database) -> None:
    owner = register(client)
    admin = add_member(client, database, owner, "ADMIN")
    created = client.post("/api/org/keys", json={"name": "prod-ingestion"}, headers=owner.headers)
    assert created.status_code == 201
    key, key_id = created.json()["key"], created.json()["id"]
    as_key = bearer(key)

    responses = [
        client.get("/api/auth/me", headers=as_key),
        client.get("/api/agents", headers=as_key),
        client.post("/api/agents", json={"name": "bot", "slug": unique("bot")}, headers=as_key),
        client.post("/api/org/keys", json={"name": "made-by-a-key"}, headers=as_key),
        client.get("/api/org/keys", headers=owner.headers),
        client.get("/api/org/keys", headers=admin.headers),
        client.get("/api/org/keys", headers=as_key),
        client.get("/api/auth/me", headers=bearer(key + "0")),
        client.get(f"/api/auth/me?api_key={key}"),
        client.post("/api/auth/logout", headers=as_key),
        client.delete(f"/api/org/keys/{key_id}", headers=owner.headers),
        client.get(f"/api/org/keys/{key_id}", headers=owner.headers),
        client.get("/api/org/keys?includeRevoked=true", headers=owner.headers),
        client.get("/api/auth/me", headers=as_key),
        client.get("/api/audit?limit=200", headers=owner.headers),
        client.get(f"/api/audit?resourceId={key_id}", headers=owner.headers),
        client.get("/api/audit/export", headers=owner.headers),
    ]

    for response in responses:
        shown = response.text + str(response.headers)
        for secret in _secret_forms(key):
            assert secret not in shown, (response.request.method, response.request.url.path, response.text)
    # The keyPrefix, and only it, stays visible to recognise the key by.
    listed = client.get("/api/org/keys?includeRevoked=true", headers=owner.headers).json()
    assert key[8:16] in {row["keyPrefix"] for row in listed}


def test_the_audit_entries_of_a_key_name_it_without_the_key(client: TestClient) -> None:
    owner = register(client)
    created = client.post("/api/org/keys", json={"name": "ci"}, headers=owner.headers).json()
    client.post("/api/agents", json={"name": "bot", "slug": unique("bot")}, headers=bearer(created["key"]))
    client.delete(f"/api/org/keys/{created['id']}", headers=owner.headers)

    entries = client.get("/api/audit?limit=200", headers=owner.headers).json()

    actions = {entry["action"] for entry in entries}
    assert {"apikey.create", "apikey.revoke", "agent.create"} <= actions
    by_key = [entry for entry in entries if entry["action"] == "agent.create"]
    assert [entry["apiKeyId"] for entry in by_key] == [created["id"]]
    for secret in _secret_forms(created["key"]):
        assert secret not in str(entries)


def test_the_database_keeps_the_sha256_of_a_key_and_never_the_key(client: TestClient, database: Database) -> None:
    owner = register(client)
    created = client.post("/api/org/keys", json={"name": "ci"}, headers=owner.headers).json()
    key = created["key"]
    client.get("/api/agents", headers=bearer(key))  # lastUsedAt is written
    client.delete(f"/api/org/keys/{created['id']}", headers=owner.headers)  # revokedAt is written
    client.get("/api/auth/me", headers=bearer(key))  # a refused use

    stored = persisted_bytes(database)

    assert hashlib.sha256(key.encode()).hexdigest().encode() in stored  # we are looking in the right place
    assert key.encode() not in stored
    assert key.removeprefix("pk_live_").encode() not in stored


def test_the_server_log_never_shows_a_key(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        owner = register(http)
        created = http.post("/api/org/keys", json={"name": "ci"}, headers=owner.headers).json()
        key = created["key"]
        assert http.get("/api/agents", headers=bearer(key)).status_code == 200
        assert http.post("/api/agents", json={"name": "bot", "slug": "bot"}, headers=bearer(key)).status_code == 201
        assert http.get(f"/api/agents?api_key={key}").status_code == 401
        assert http.get(f"/api/auth/me?key={key}&verbose=1").status_code == 401
        assert http.get(f"/api/auth/me/{key}").status_code in (401, 404)
        assert http.get("/api/auth/me", headers=bearer(key.upper())).status_code == 401
        assert http.get("/api/auth/me", headers=bearer(key + "0")).status_code == 401
        assert http.delete(f"/api/org/keys/{created['id']}", headers=owner.headers).status_code == 200
        assert http.get("/api/agents", headers=bearer(key)).status_code == 401
    live_server.process.terminate()  # flush what the server buffered
    live_server.process.wait(timeout=10)

    log = live_server.log_path.read_bytes()

    assert b"/api/agents" in log  # the log does record the requests
    for secret in _secret_forms(key):
        assert secret.encode() not in log
        assert secret.upper().encode() not in log
    assert key[8:].encode() + b"0" not in log


def test_a_request_with_a_key_in_the_query_string_is_access_logged_with_the_key_masked(
    live_server: LiveServer,
) -> None:
    """Masking must not cost the access line: operators still see that the request came and was refused."""
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        key = http.post("/api/org/keys", json={"name": "ci"}, headers=register(http).headers).json()["key"]
        assert http.get(f"/api/agents?api_key={key}").status_code == 401
    live_server.process.terminate()
    live_server.process.wait(timeout=10)

    log = live_server.log()

    assert key not in log
    assert "Logging error" not in log, log[-3000:]
    assert re.search(r'^INFO: +\S+ - "GET /api/agents\?api_key=\S*REDACTED\S* HTTP/1\.1" 401', log, re.MULTILINE), log
