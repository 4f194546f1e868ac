"""The unit of work is the request: committed just before a 1xx-3xx response starts, rolled back
for a 4xx, a 5xx or an exception. So a 201 means committed, and no failed request leaves anything
half-written. Pure ASGI: it costs a send wrapper, where a yield dependency costs several times more.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provenant.db import Database, UnitOfWork

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STATE_KEY = "unit_of_work"


def unit_of_work(request: HTTPConnection) -> UnitOfWork:
    """The unit of work of the request being handled."""
    work: UnitOfWork = request.scope["state"][STATE_KEY]
    return work


def get_database(request: HTTPConnection) -> Database:
    database: Database = request.app.state.database
    return database


async def _database(request: Request) -> Database:
    return get_database(request)


async def _session(request: Request) -> Session:
    return unit_of_work(request).session


# What routes put in their signatures. DatabaseDep is for reads outside the request's transaction
# (Database.reader, streamed exports) and writes that must outlive it (Database.transaction()).
DatabaseDep = Annotated[Database, Depends(_database)]
# The request's session; UnitOfWorkMiddleware commits it before a success response starts.
SessionDep = Annotated[Session, Depends(_session)]


# What answers in place of a response whose commit failed: the app's one error handler.
CommitFailed = Callable[[Request, Exception], Awaitable[Response]]


class UnitOfWorkMiddleware:
    def __init__(self, app: ASGIApp, database: Database, commit_failed: CommitFailed) -> None:
        self.app = app
        self.database = database
        self.commit_failed = commit_failed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        work = UnitOfWork(self.database, writes=scope["method"] not in READ_ONLY_METHODS)
        scope.setdefault("state", {})[STATE_KEY] = work
        finished = False
        replaced = False

        async def send_after_finishing(message: Message) -> None:
            nonlocal finished, replaced
            if replaced:
                return  # the rest of the response whose commit failed: the error answer went instead
            if message["type"] == "http.response.start" and not finished:
                finished = True
                try:
                    work.finish(commit=message["status"] < 400)
                except Exception as error:
                    # Answered here, before any byte of the success response: the client gets the error
                    # (503 busy when the database went away mid-commit), never a false 2xx. Raised instead,
                    # it would meet Starlette's handlers after they had seen the response start.
                    replaced = True
                    response = await self.commit_failed(Request(scope), error)
                    await response(scope, receive, send)
                    return
            await send(message)

        try:
            await self.app(scope, receive, send_after_finishing)
        finally:
            if not finished:
                work.finish(commit=False)
