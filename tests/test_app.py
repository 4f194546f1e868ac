"""The HTTP contract every route shares: error bodies, body limits, 401 headers, OpenAPI, health."""

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from provenant.auth.security import issue_jwt
from provenant.db import Database
from tests.factories import add_member, bearer, create_key, register
from tests.servers import LiveServer

MIB = 1024 * 1024


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["error"], str) and body["error"]
    return dict(body)


def agent_body_of_size(size: int) -> bytes:
    """A valid agent as JSON, padded with whitespace to exactly ``size`` bytes."""
    core = b'{"name": "Big", "slug": "big"}'
    return core[:-1] + b" " * (size - len(core)) + b"}"


def chunks_of(payload: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(payload), size):
        yield payload[start : start + size]


# --- health, docs -------------------------------------------------------------------------------


def test_health_answers_ok_without_auth(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_declares_an_http_bearer_scheme_used_by_protected_routes(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    bearer_schemes = [
        name for name, scheme in schemes.items() if scheme["type"] == "http" and scheme["scheme"].lower() == "bearer"
    ]
    assert bearer_schemes
    list_agents = document["paths"]["/api/agents"]["get"]
    assert {bearer_schemes[0]: []} in list_agents["security"]
    assert "security" not in document["paths"]["/api/health"]["get"]


def test_interactive_docs_are_served_as_html(client: TestClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/api/openapi.json" in response.text


# --- unknown routes, malformed bodies -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nothing-here"),
        ("POST", "/api/agents/x/nothing"),
        ("GET", "/api"),
    ],
)
def test_an_unknown_route_is_a_json_404(client: TestClient, method: str, path: str) -> None:
    body = assert_error(client.request(method, path), 404, "not_found")
    assert set(body) == {"error", "code"}


def test_a_wrong_method_on_a_known_route_is_a_json_error(client: TestClient) -> None:
    response = client.put("/api/agents", json={})
    assert response.status_code == 405
    assert set(response.json()) == {"error", "code"}


def test_malformed_json_is_400_invalid_json(client: TestClient) -> None:
    owner = register(client)
    response = client.post(
        "/api/agents",
        content=b'{"name": "Support", "slug": ',
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    body = assert_error(response, 400, "invalid_json")
    assert '"slug"' not in body["error"]


def test_malformed_json_on_a_public_route_is_400_too(client: TestClient) -> None:
    response = client.post("/api/auth/login", content=b"{email: nope}", headers={"Content-Type": "application/json"})
    assert_error(response, 400, "invalid_json")


def test_a_number_longer_than_python_reads_is_400_invalid_json(client: TestClient) -> None:
    """Python's parser refuses integers of more than 4,300 digits with a ValueError, which FastAPI answered as
    400 ``bad_request``; the contract's answer to JSON the server cannot read is ``invalid_json``."""
    owner = register(client)
    body = b'{"name": "Support", "slug": "support", "tags": [' + b"9" * 5000 + b"]}"
    headers = {**owner.headers, "Content-Type": "application/json"}
    assert_error(client.post("/api/agents", content=body, headers=headers), 400, "invalid_json")
    assert client.get("/api/agents", headers=owner.headers).json() == []


# --- validation ---------------------------------------------------------------------------------


def register_body(password: str) -> dict[str, str]:
    return {
        "name": "Ada",
        "email": "ada@example.com",
        "password": password,
        "orgName": "Acme",
        "orgSlug": "acme",
    }


@pytest.mark.parametrize(
    "password",
    ["s3cr3t!", ("Tr0ub4dor&3-" * 200)[:2000]],
    ids=["7-characters", "2000-characters"],
)
def test_a_validation_error_names_the_field_and_never_echoes_the_value(client: TestClient, password: str) -> None:
    response = client.post("/api/auth/register", json=register_body(password))
    body = assert_error(response, 422, "validation_error")
    assert [detail["field"] for detail in body["details"]] == ["password"]
    assert all(isinstance(detail["message"], str) and detail["message"] for detail in body["details"])
    assert password not in response.text
    assert password[:6] not in response.text


def test_the_same_password_within_bounds_is_accepted(client: TestClient) -> None:
    """The pair of the test above: 8 and 1024 characters pass, so the 422s were about length."""
    for password in ("s3cr3t!!", "p" * 1024):
        body = register_body(password)
        body["email"] = f"ada-{len(password)}@example.com"
        body["orgSlug"] = f"acme-{len(password)}"
        assert client.post("/api/auth/register", json=body).status_code == 201


def test_a_login_with_an_overlong_password_names_the_field_without_echoing_it(client: TestClient) -> None:
    password = "hunter2-" * 200
    response = client.post("/api/auth/login", json={"email": "ada@example.com", "password": password})
    body = assert_error(response, 422, "validation_error")
    assert [detail["field"] for detail in body["details"]] == ["password"]
    assert "hunter2" not in response.text


def test_every_invalid_field_is_listed(client: TestClient) -> None:
    response = client.post(
        "/api/auth/register",
        json={
            "name": "",
            "email": "not-an-email",
            "password": "short",
            "orgName": "Acme",
            "orgSlug": "Bad Slug",
        },
    )
    body = assert_error(response, 422, "validation_error")
    assert {detail["field"] for detail in body["details"]} == {"name", "email", "password", "orgSlug"}
    assert "short" not in response.text


def test_a_missing_field_is_named(client: TestClient) -> None:
    owner = register(client)
    response = client.post("/api/agents", json={"slug": "support"}, headers=owner.headers)
    body = assert_error(response, 422, "validation_error")
    assert [detail["field"] for detail in body["details"]] == ["name"]


def test_a_bad_query_parameter_is_a_422_naming_it(client: TestClient) -> None:
    owner = register(client)
    response = client.get("/api/agents", params={"status": "DELETED"}, headers=owner.headers)
    body = assert_error(response, 422, "validation_error")
    assert [detail["field"] for detail in body["details"]] == ["status"]


# --- body size ----------------------------------------------------------------------------------


def test_a_body_over_1_mib_is_refused_with_413(client: TestClient) -> None:
    owner = register(client)
    response = client.post(
        "/api/agents",
        content=agent_body_of_size(MIB + 1),
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    assert_error(response, 413, "payload_too_large")


def test_a_body_of_exactly_1_mib_is_accepted(client: TestClient) -> None:
    owner = register(client)
    response = client.post(
        "/api/agents",
        content=agent_body_of_size(MIB),
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


def test_an_oversized_body_is_refused_over_a_real_socket(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        owner = register(http)
        response = http.post(
            "/api/agents",
            content=agent_body_of_size(MIB + 1),
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        assert response.request.headers["content-length"] == str(MIB + 1)
        assert_error(response, 413, "payload_too_large")
        assert http.get("/api/agents", headers=owner.headers).json() == []


def test_a_body_claiming_a_huge_length_is_refused_before_it_is_sent(live_server: LiveServer) -> None:
    """The server judges Content-Length alone; it does not wait for 2 GiB to arrive."""
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        owner = register(http)
    host, port = live_server.url.removeprefix("http://").split(":")
    request = (
        "POST /api/agents HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"Authorization: Bearer {owner.token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {2 * 1024 * MIB}\r\n\r\n"
        "{"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        answer = read_response(sock)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["code"] == "payload_too_large"


def read_response(sock: socket.socket) -> bytes:
    """One whole HTTP response with a Content-Length, read off a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:"))[15:])
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_a_chunked_upload_over_1_mib_is_refused_with_413(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        owner = register(http)
        response = http.post(
            "/api/agents",
            content=chunks_of(agent_body_of_size(MIB + 1)),
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        assert "content-length" not in response.request.headers
        assert response.request.headers["transfer-encoding"] == "chunked"
        assert_error(response, 413, "payload_too_large")
        assert http.get("/api/agents", headers=owner.headers).json() == []


def test_a_chunked_upload_of_exactly_1_mib_is_accepted(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        owner = register(http)
        response = http.post(
            "/api/agents",
            content=chunks_of(agent_body_of_size(MIB)),
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 201, response.text
        assert response.json()["slug"] == "big"


# --- unexpected failures ------------------------------------------------------------------------


def drop_table(database: Database, table: str) -> None:
    cascade = "" if database.engine.dialect.name == "sqlite" else " CASCADE"
    with database.transaction() as session:
        session.execute(text(f"DROP TABLE {table}{cascade}"))


def test_an_unexpected_failure_is_a_json_500_without_a_stack_trace(client: TestClient, database: Database) -> None:
    owner = register(client)
    drop_table(database, "agents")
    response = client.get("/api/agents", headers=owner.headers)
    body = assert_error(response, 500, "internal_error")
    assert set(body) == {"error", "code", "requestId"}  # the request id lets a report be matched to the log
    assert "Traceback" not in response.text
    assert "agents" not in body["error"]


def test_a_failure_while_committing_answers_500_and_keeps_nothing(client: TestClient, database: Database) -> None:
    """The audit entry cannot be written, so the agent it describes is not created either."""
    owner = register(client)
    drop_table(database, "audit_log")
    response = client.post("/api/agents", json={"name": "Support", "slug": "support"}, headers=owner.headers)
    assert_error(response, 500, "internal_error")
    assert "Traceback" not in response.text
    assert client.get("/api/agents", headers=owner.headers).json() == []


def test_an_unexpected_failure_over_a_real_socket_is_json_too(live_server: LiveServer, database: Database) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        owner = register(http)
        drop_table(database, "agents")
        response = http.get("/api/agents", headers=owner.headers)
    assert_error(response, 500, "internal_error")
    assert "Traceback" not in response.text
    assert "Traceback" in live_server.log()  # the operator still gets it


# --- 401 ----------------------------------------------------------------------------------------


def expired_jwt(client: TestClient, user_id: str) -> str:
    secret: str = client.app.state.jwt_secret  # type: ignore[attr-defined]
    return issue_jwt(user_id, secret, datetime.now(UTC) - timedelta(days=8))


def unauthorized_requests(client: TestClient) -> list[tuple[str, httpx.Response]]:
    owner = register(client)
    revoked = create_key(client, owner, name="revoked")
    key_id = client.get("/api/org/keys", headers=owner.headers).json()[0]["id"]
    assert client.delete(f"/api/org/keys/{key_id}", headers=owner.headers).status_code == 200
    return [
        ("no header", client.get("/api/agents")),
        ("not bearer", client.get("/api/agents", headers={"Authorization": "Basic dXNlcjpwYXNz"})),
        ("empty token", client.get("/api/agents", headers={"Authorization": "Bearer "})),
        ("malformed key", client.get("/api/agents", headers=bearer("pk_live_NOT-HEX"))),
        ("unknown key", client.get("/api/agents", headers=bearer("pk_live_" + "0" * 32))),
        ("revoked key", client.get("/api/agents", headers=bearer(revoked))),
        ("garbage jwt", client.get("/api/agents", headers=bearer("not.a.jwt"))),
        ("expired jwt", client.get("/api/agents", headers=bearer(expired_jwt(client, owner.user_id)))),
        ("logout unauthenticated", client.post("/api/auth/logout")),
        ("audit unauthenticated", client.get("/api/audit/export")),
        (
            "wrong password",
            client.post("/api/auth/login", json={"email": owner.email, "password": "wrong pass"}),
        ),
    ]


def test_every_401_carries_www_authenticate_bearer(client: TestClient) -> None:
    for case, response in unauthorized_requests(client):
        assert response.status_code == 401, case
        assert response.headers.get("www-authenticate") == "Bearer", case
        assert set(response.json()) == {"error", "code"}, case


def test_a_403_is_not_a_challenge(client: TestClient, database: Database) -> None:
    """The pair of the test above: an authenticated caller without the role gets no WWW-Authenticate."""
    owner = register(client)
    viewer = add_member(client, database, owner, "VIEWER")
    response = client.post("/api/agents", json={"name": "A", "slug": "a"}, headers=viewer.headers)
    assert_error(response, 403, "forbidden")
    assert "www-authenticate" not in response.headers
