"""Every response names its request in ``X-Request-Id``, and so does the log line of a 500, so that a
user's report can be matched to the log. The id is made here, never taken from the client."""

import secrets

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-Id"
STATE_KEY = "request_id"


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
        header = (HEADER.lower().encode(), value.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_id)
