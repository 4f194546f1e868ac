"""The lean route handler answers as FastAPI's own handler would, for the routes it takes."""

from pathlib import Path
from typing import Annotated, Literal

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from provenant.app import create_app
from provenant.config import Settings
from provenant.lean_route import LeanRoute, _plan

calls: list[str] = []


async def _database(request: Request) -> str:
    calls.append("database")
    return "db"


async def _caller(request: Request) -> str:
    calls.append("caller")
    if request.headers.get("authorization") == "Bearer bad":
        raise HTTPException(401, "Who are you?")
    return request.headers.get("authorization", "nobody")


def _router(route_class: type[APIRoute]) -> APIRouter:
    router = APIRouter(route_class=route_class)

    @router.get("/items")
    async def listed(
        request: Request,
        database: Annotated[str, Depends(_database)],
        caller: Annotated[str, Depends(_caller)],
        status: Annotated[Literal["ACTIVE", "ARCHIVED"] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=5)] = None,
    ) -> Response:
        return Response(f"{database} {caller} {status} {limit} {cursor} {request.url.path}")

    @router.get("/model")
    async def model() -> dict[str, str]:
        return {"status": "ok"}

    return router


def _app(route_class: type[APIRoute]) -> FastAPI:
    app = FastAPI()
    app.router.routes.extend(_router(route_class).routes)  # as provenant.app.add_routes adds them
    return app


@pytest.mark.parametrize("authorization", ["Bearer ok", "Bearer bad"])
@pytest.mark.parametrize(
    "query",
    [
        "",
        "?limit=3",
        "?limit=0",
        "?limit=abc",
        "?limit=",
        "?status=ACTIVE&cursor=abc",
        "?status=GONE&limit=999&cursor=toolong",
        "?limit=1&limit=7",
        "?unknown=1",
    ],
)
def test_answers_as_fastapi_does(query: str, authorization: str) -> None:
    answers = []
    for route_class in (APIRoute, LeanRoute):
        calls.clear()
        with TestClient(_app(route_class)) as client:
            response = client.get("/items" + query, headers={"Authorization": authorization})
        body = response.json() if response.status_code != 200 else response.text
        answers.append((response.status_code, body, tuple(calls)))
    assert answers[0] == answers[1]


def test_a_route_that_returns_a_model_keeps_fastapis_handler() -> None:
    routes = {route.path: route for route in _router(LeanRoute).routes if isinstance(route, LeanRoute)}
    assert _plan(routes["/items"]) is not None
    assert _plan(routes["/model"]) is None


def test_the_hot_reads_take_the_lean_path(tmp_path: Path) -> None:
    """``GET /api/agents`` and ``GET /api/auth/me``: a signature change that loses the lean path shows here."""
    app = create_app(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'p.db'}"))
    lean = {
        (route.path, method)
        for route in app.routes
        if isinstance(route, LeanRoute) and _plan(route)
        for method in route.methods
    }
    assert {("/api/agents", "GET"), ("/api/auth/me", "GET")} <= lean
