"""When something does go wrong: the answer names the request, the log names it too, and neither
carries what the request held (a statement's values, a password sent in the wrong place)."""

import logging

import httpx
import pytest
import sqlalchemy.exc
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from provenant.db import Database
from tests.servers import LiveServer


def test_every_answer_carries_a_request_id_of_its_own(client: TestClient) -> None:
    ids = {client.get("/api/health").headers["X-Request-Id"] for _ in range(3)}
    ids.add(client.get("/api/nowhere").headers["X-Request-Id"])
    assert len(ids) == 4
    assert all(len(value) == 16 for value in ids)


def test_a_500_names_its_request_in_the_answer_and_in_the_log(app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    async def boom() -> None:
        raise RuntimeError("deliberately broken")

    app.router.add_api_route("/api/boom", boom)
    app.router.routes.insert(0, app.router.routes.pop())  # before the dashboard's catch-all
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR, "provenant"):
        response = client.get("/api/boom")
    assert response.status_code == 500
    body = response.json()
    reference = response.headers["X-Request-Id"]
    assert body["code"] == "internal_error"
    assert body["requestId"] == reference
    assert reference in body["error"]
    assert "deliberately broken" not in response.text  # no stack trace, no exception text
    assert any(reference in record.getMessage() for record in caplog.records)


def test_a_failing_statement_never_shows_its_values(database: Database) -> None:
    secret = "a-value-that-must-not-be-logged"
    with pytest.raises(sqlalchemy.exc.DBAPIError) as failure, database.engine.connect() as connection:
        connection.execute(text("INSERT INTO no_such_table VALUES (:value)"), {"value": secret})
    assert secret not in str(failure.value)
    assert "parameters hidden" in str(failure.value)


def test_a_password_in_a_query_string_never_reaches_the_log(live_server: LiveServer) -> None:
    password = "hunter2-in-the-wrong-place"
    response = httpx.get(f"{live_server.url}/api/auth/login", params={"email": "a@example.com", "password": password})
    assert response.status_code == 405
    httpx.get(f"{live_server.url}/api/health", params={"currentPassword": password, "client_secret": password})
    assert "/api/auth/login?" in live_server.log()  # the access log did record the requests
    assert password not in live_server.log()
