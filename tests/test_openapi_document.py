"""The OpenAPI document, byte for byte: moving where errors are declared must not change what clients read.

``tests/openapi.json`` holds the document as served, indented so that a review shows a change line by line. The
served bytes are its compact form exactly (same keys, same order, same text). When the contract is meant to
change, regenerate it with ``PROVENANT_WRITE_OPENAPI_SNAPSHOT=1`` and let the diff show what changed."""

import json
import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from provenant import openapi

SNAPSHOT = Path(__file__).parent / "openapi.json"


def test_the_served_document_is_the_snapshot(client: TestClient) -> None:
    served = client.get("/api/openapi.json").content
    if os.environ.get("PROVENANT_WRITE_OPENAPI_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(json.loads(served), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert served == json.dumps(snapshot, separators=(",", ":"), ensure_ascii=False).encode()


def test_route_decorators_declare_successes_only(app: FastAPI) -> None:
    """Error statuses are declared in provenant.openapi alone: one place to read what a route may answer."""
    declared = {
        (route.path_format, status)
        for route in app.routes
        if isinstance(route, APIRoute)
        for status in route.responses
        if int(status) >= 400
    }
    assert declared == set()


def test_every_route_named_in_the_error_tables_exists(app: FastAPI) -> None:
    routes = {
        (method, route.path_format) for route in app.routes if isinstance(route, APIRoute) for method in route.methods
    }
    assert set(openapi._OWN) | set(openapi._PER_ROUTE) <= routes
