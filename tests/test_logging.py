"""Logs: one JSON object per line naming its request, and no secret in any line, whatever the scenario."""

import hashlib
import io
import json
import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from provenant import request_id
from provenant.log_redaction import RedactSecrets
from provenant.logging_setup import JsonFormatter, log_config
from tests.factories import bearer, unique
from tests.servers import serve


def test_a_full_scenario_logs_json_lines_with_request_ids_and_no_secret(tmp_path: Path, database_url: str) -> None:
    owner_password = "Owner's pass-phrase 7 x"  # quotes and spaces: a redaction that stops at a space would leak
    wrong_password = "wrong guess 1234 nope"
    member_password = 'Member "pass" phrase 9'
    owner_email = f"{unique('owner')}@example.com"
    with (
        serve(tmp_path, database_url, env={"PROVENANT_LOG_FORMAT": "json"}) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        responses: list[httpx.Response] = []

        def call(method: str, path: str, **kwargs: object) -> httpx.Response:
            response = http.request(method, path, **kwargs)  # type: ignore[arg-type]
            responses.append(response)
            return response

        registered = call(
            "POST",
            "/api/auth/register",
            json={
                "name": "Owner",
                "email": owner_email,
                "password": owner_password,
                "orgName": "Acme",
                "orgSlug": unique("acme"),
            },
        )
        assert registered.status_code == 201, registered.text
        logged_in = call("POST", "/api/auth/login", json={"email": owner_email, "password": owner_password})
        assert logged_in.status_code == 200
        refused = call("POST", "/api/auth/login", json={"email": owner_email, "password": wrong_password})
        assert refused.status_code == 401
        jwt = logged_in.json()["token"]
        created = call("POST", "/api/org/keys", json={"name": "ci"}, headers=bearer(jwt))
        assert created.status_code == 201
        key = created.json()["key"]
        assert call("GET", "/api/auth/me", headers=bearer(key)).status_code == 200
        # A client that puts its key where it should not: the access line must not keep it.
        assert call("GET", f"/api/auth/me?api_key={key}", headers=bearer(key)).status_code == 200
        invited = call(
            "POST",
            "/api/org/invitations",
            json={"email": f"{unique('m')}@example.com", "role": "MEMBER"},
            headers=bearer(key),
        )
        assert invited.status_code == 201, invited.text
        link = invited.json()["inviteLink"]
        invitation_token = parse_qs(urlsplit(link).query)["token"][0]
        assert call("GET", f"/api/auth/invitations/{invitation_token}").status_code == 200
        accepted = call(
            "POST",
            "/api/auth/accept-invitation",
            json={"token": invitation_token, "name": "Member", "password": member_password},
        )
        assert accepted.status_code == 201, accepted.text
        jwt_secret = (server.data_dir / "jwt-secret").read_bytes().strip()
    log = server.log_path.read_bytes()

    lines = [json.loads(line) for line in log.decode().splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message", "requestId"} <= set(line) for line in lines)
    logged_ids = {line["requestId"] for line in lines if line["requestId"]}
    for response in responses:
        assert response.headers["x-request-id"] in logged_ids, response.request.url.path
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert {line["requestId"] for line in access} >= {r.headers["x-request-id"] for r in responses}
    assert any(line["http"]["path"].startswith("/api/auth/invitations/") for line in access)

    secrets = {
        "owner password": owner_password,
        "wrong password": wrong_password,
        "member password": member_password,
        "key": key,
        "key's random part": key.removeprefix("pk_live_"),
        "key's SHA-256": hashlib.sha256(key.encode()).hexdigest(),
        "register JWT": registered.json()["token"],
        "login JWT": jwt,
        "accept JWT": accepted.json()["token"],
        "invitation token": invitation_token,
        "invitation token's SHA-256": hashlib.sha256(invitation_token.encode()).hexdigest(),
        "JWT secret": jwt_secret.decode(),
    }
    for what, secret in secrets.items():
        assert secret.encode() not in log, what
        assert json.dumps(secret)[1:-1].encode() not in log, what  # as escaped inside a JSON string


def test_text_stays_the_default(tmp_path: Path) -> None:
    with serve(tmp_path, f"sqlite:///{tmp_path / 'text.db'}") as server:
        httpx.get(f"{server.url}/api/health")
    first = server.log().splitlines()[0]
    with pytest.raises(json.JSONDecodeError):
        json.loads(first)


def emit(log_format: str, message: str, *args: object, exc: BaseException | None = None) -> str:
    """One record through a handler like the one ``log_config`` builds, as written to the stream."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    text_format = log_config("debug", "text")["formatters"]["default"]["format"]
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(text_format))
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    handler.handle(logging.LogRecord("provenant", logging.ERROR, __file__, 1, message, args, exc_info))
    return stream.getvalue()


def test_a_line_names_the_request_it_was_written_for() -> None:
    token = request_id.current.set("0123456789abcdef")
    try:
        line = json.loads(emit("json", "hello %s", "world"))
    finally:
        request_id.current.reset(token)
    assert line["requestId"] == "0123456789abcdef"
    assert line["message"] == "hello world"
    assert line["level"] == "ERROR" and line["logger"] == "provenant"
    assert line["time"].endswith("Z")
    assert json.loads(emit("json", "outside"))["requestId"] is None


def test_a_traceback_is_one_line_of_json_and_redacted() -> None:
    key = "pk_live_" + "ab" * 16
    try:
        raise RuntimeError(f"boom with {key} and Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig")
    except RuntimeError as error:
        written = emit("json", "failed", exc=error)
    assert written.count("\n") == 1
    line = json.loads(written)
    assert "Traceback" in line["exception"] and "boom" in line["exception"]
    assert key not in written and "eyJ" not in written


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Basic dXNlcjpwYXNzd29yZA==",
        "(b'authorization', b'Bearer SECRETVALUE')",
        '{"password": "SECRET VALUE \\" with quote", "name": "n"}',
        "{'currentPassword': 'SECRET VALUE', 'newPassword': 'SECRET VALUE'}",
        "GET /api/x?access_token=SECRETVALUE&y=1",
        "token=SECRETVALUE",
        "/accept-invitation?token=SECRETVALUE",
        "GET /sso-complete?code=SECRETVALUE HTTP/1.1",
        "GET /api/auth/sso/callback?state=SECRETVALUE&code=SECRETVALUE HTTP/1.1",
        "GET /api/auth/github/callback?code=SECRETVALUE&state=SECRETVALUE HTTP/1.1",
        "GET /api/auth/invitations/SECRETVALUE HTTP/1.1",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJTRUNSRVRWQUxVRSI6MX0.SECRETVALUE",
        "hash $argon2id$v=19$m=65536,t=3,p=4$SECRETVALUE",
    ],
)
def test_the_filter_masks_every_kind_of_secret(text: str) -> None:
    written = emit("text", "%s", text)
    assert "SECRET" not in written and "dXNlcjpw" not in written, written
    assert "[REDACTED" in written
