"""Every response names its request in ``X-Request-Id``, and so does the log line of a 500, so that a
user's report can be matched to the log. The id is made here, never taken from the client.

It is also the ``current`` context variable of the request's task, which every log line written while the
request is handled reads (``logging_setup``), uvicorn's access line included.
"""

import secrets
from contextvars import ContextVar

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-Id"
STATE_KEY = "request_id"

# Each request runs in a task of its own, with its own copy of the context: the value never leaks to another
# request, so it is not reset when the app returns (the 500 handler, outside this middleware, logs after that).
current: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id(request: HTTPConnection) -> str | None:
    value: str | None = request.scope.get("state", {}).get(STATE_KEY)
    return value


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        value = secrets.token_hex(8)
        scope.setdefault("state", {})[STATE_KEY] = value
        current.set(value)
        header = (HEADER.lower().encode(), value.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                # The 500 handler names the request itself when it answers from outside this middleware;
                # when it answers from inside (a database error), the header is there already.
                if not any(name.lower() == header[0] for name, _ in headers):
                    headers.append(header)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
