"""Refuse oversized bodies with 413 before anything parses them (pure ASGI, so nothing is buffered)."""

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_LIMIT = 1024 * 1024
# Turns carry whole model outputs: their route takes more.
_LARGER_LIMITS = ((re.compile(r"^/api/sessions/[^/]+/turns$"), 5 * 1024 * 1024),)


def limit_for(path: str) -> int:
    for pattern, limit in _LARGER_LIMITS:
        if pattern.match(path):
            return limit
    return DEFAULT_LIMIT


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is None and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body at all
            return
        if declared is not None:
            # The HTTP server holds the client to its Content-Length, so the header is enough.
            if not declared.isdigit() or int(declared) > limit:
                await _refuse(send, limit)
                return
            await self.app(scope, receive, send)
            return

        # Chunked upload: read it whole (up to the limit) before the app sees a byte.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _refuse(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, limit: int) -> None:
    body: dict[str, Any] = {
        "error": f"The request body is larger than {limit // 1024 // 1024} MiB.",
        "code": "payload_too_large",
    }
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
