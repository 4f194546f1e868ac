"""Passwords and JWTs never reach the database, the audit log, an error message or the server log."""

import httpx
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import bearer, persisted_bytes, register, unique
from tests.servers import LiveServer

PASSWORD = "Tr0ub4dor&3-" + "9f8e7d6c5b4a"
WRONG_PASSWORD = "Tr0ub4dor&3-" + "typo-typo-typo"
SHORT_PASSWORD = "sh0rt!7"


def _register(http: TestClient | httpx.Client, password: str) -> httpx.Response:
    body = {
        "name": "Ada",
        "email": f"{unique('ada')}@example.com",
        "password": password,
        "orgName": "Acme",
        "orgSlug": unique("acme"),
    }
    return http.post("/api/auth/register", json=body)


def test_no_error_or_audit_entry_repeats_a_password(client: TestClient) -> None:
    owner = register(client, password=PASSWORD)
    responses = [
        _register(client, SHORT_PASSWORD),
        _register(client, "x" * 1025),
        client.post("/api/auth/login", json={"email": owner.email, "password": WRONG_PASSWORD}),
        client.post("/api/auth/login", json={"email": "nobody@example.com", "password": WRONG_PASSWORD}),
        client.post("/api/auth/login", json={"email": owner.email, "password": "y" * 1025}),
        client.post("/api/auth/login", json={"email": owner.email, "password": PASSWORD}),
        client.get("/api/auth/me", headers=owner.headers),
        client.get("/api/audit?limit=200", headers=owner.headers),
        client.get("/api/audit/export", headers=owner.headers),
    ]
    assert [response.status_code for response in responses[:5]] == [422, 422, 401, 401, 422]
    for response in responses:
        for password in (PASSWORD, WRONG_PASSWORD, SHORT_PASSWORD, "x" * 1025, "y" * 1025):
            assert password not in response.text, (response.request.url.path, response.text)


def test_no_later_response_repeats_a_jwt(client: TestClient) -> None:
    owner = register(client)
    key = client.post("/api/org/keys", json={"name": "ci"}, headers=owner.headers).json()["key"]
    client.post("/api/auth/logout", headers=owner.headers)
    signed_in_again = client.post("/api/auth/login", json={"email": owner.email, "password": owner.password})
    again = bearer(signed_in_again.json()["token"])
    responses = [
        client.get("/api/auth/me", headers=owner.headers),
        client.get("/api/auth/me", headers=bearer(key)),
        client.get("/api/auth/me", headers=bearer(owner.token + "x")),
        client.get(f"/api/auth/me?token={owner.token}"),
        # Logout ended owner.token: the lists are read signed in again.
        client.get("/api/org/keys", headers=again),
        client.get("/api/audit?limit=200", headers=again),
        client.get("/api/audit/export", headers=again),
    ]
    signature = owner.token.rsplit(".", 1)[1]
    for response in responses:
        assert signature not in response.text + str(response.headers), response.request.url.path


def test_the_database_keeps_an_argon2id_hash_and_never_the_password_or_a_jwt(
    client: TestClient, database: Database
) -> None:
    owner = register(client, password=PASSWORD)
    again = client.post("/api/auth/login", json={"email": owner.email, "password": PASSWORD}).json()["token"]
    client.post("/api/auth/login", json={"email": owner.email, "password": WRONG_PASSWORD})
    client.post("/api/auth/login", json={"email": "nobody@example.com", "password": WRONG_PASSWORD})
    client.post("/api/auth/logout", headers=owner.headers)

    stored = persisted_bytes(database)

    assert b"$argon2id$" in stored  # we are looking in the right place
    for secret in (PASSWORD, WRONG_PASSWORD, owner.token, again):
        assert secret.encode() not in stored
    for token in (owner.token, again):
        assert token.rsplit(".", 1)[1].encode() not in stored


def test_the_server_log_never_shows_a_password_or_a_jwt(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        owner = register(http, password=PASSWORD)
        assert _register(http, SHORT_PASSWORD).status_code == 422
        login = http.post("/api/auth/login", json={"email": owner.email, "password": PASSWORD})
        token = login.json()["token"]
        assert http.post("/api/auth/login", json={"email": owner.email, "password": WRONG_PASSWORD}).status_code == 401
        assert http.get("/api/auth/me", headers=bearer(token)).status_code == 200
        assert http.get("/api/auth/me", headers=bearer(token + "x")).status_code == 401
        assert http.get(f"/api/auth/me?token={token}").status_code == 401
        assert http.get(f"/api/agents?access_token={owner.token}").status_code == 401
        assert http.post("/api/auth/logout", headers=bearer(owner.token)).status_code == 204
    live_server.process.terminate()  # flush what the server buffered
    live_server.process.wait(timeout=10)

    log = live_server.log_path.read_bytes()

    assert b"/api/auth/login" in log  # the log does record the requests
    for secret in (PASSWORD, WRONG_PASSWORD, SHORT_PASSWORD):
        assert secret.encode() not in log
    for jwt in (owner.token, token):
        assert jwt.rsplit(".", 1)[1].encode() not in log
        assert jwt.split(".")[1].encode() not in log
