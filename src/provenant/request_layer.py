"""The one ASGI layer every request passes before the app: its id, the API's headers, the body's size and
what no request may carry.

In the order a request meets them:
- it gets its id (``request_id``), named by every answer in ``X-Request-Id`` and by every log line;
- a body larger than its route accepts is refused with 413 before a byte of it is read (the HTTP server holds
  the client to its ``Content-Length``; a chunked body is counted as it arrives);
- a path or query string holding a NUL, and a body that is not UTF-8 JSON, nests too deeply or holds a NUL
  or a lone surrogate, is refused with 400 or 422 (``request_guard``) before anything parses it;
- every answer to ``/api`` gets the API's headers (``headers``), errors and refusals included.

One layer, not four: each was a middleware of its own that wrapped ``send`` and, for two of them, read and
replayed the body, and together they cost every request (``GET /api/health`` too) about a fifth of its
server CPU beyond the route (docs/performance.md). With ``PROVENANT_CORS_ORIGINS`` set, Starlette's CORS
middleware sits just inside this layer, where it answers preflights, and this layer's own refusals pass
through it, so that a page of a listed origin can read why it was refused.
"""

import re

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provenant import request_id
from provenant.errors import PayloadTooLarge, ProvenantError, ValidationFailed, render
from provenant.headers import ANSWER_HEADERS, API_HEADERS, is_api
from provenant.request_guard import MESSAGE, refusal_of_body, refusal_of_target

MIB = 1024 * 1024
DEFAULT_LIMIT = MIB
# Turns carry whole model outputs: their route takes more.
_LARGER_LIMITS = ((re.compile(r"^/api/sessions/[^/]+/turns$"), 5 * MIB),)
# Methods whose body, if one is sent, no route reads: only its size is checked.
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})

_API_HEADERS = [(name.lower().encode(), value.encode()) for name, value in API_HEADERS.items()]
_REQUEST_ID = request_id.HEADER.lower().encode()


def limit_for(path: str) -> int:
    for pattern, limit in _LARGER_LIMITS:
        if pattern.match(path):
            return limit
    return DEFAULT_LIMIT


class _ClientLeft(Exception):
    """The client went away while its body was read: nothing to answer."""


class RequestLayer:
    def __init__(self, app: ASGIApp, cors_options: dict[str, object] | None = None) -> None:
        self._cors_options = cors_options
        self.app = CORSMiddleware(app, **cors_options) if cors_options else app  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        value = request_id.new()
        scope.setdefault("state", {})[request_id.STATE_KEY] = value
        request_id.current.set(value)
        send = _with_headers(scope, send, (_REQUEST_ID, value.encode()))
        try:
            refusal, body = await _admit(scope, receive)
        except _ClientLeft:
            return
        if refusal is not None:
            answer: ASGIApp = render(refusal)
            if self._cors_options:
                answer = CORSMiddleware(answer, **self._cors_options)  # type: ignore[arg-type]
            await answer(scope, receive, send)
            return
        if body is None:
            await self.app(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _admit(scope: Scope, receive: Receive) -> tuple[ProvenantError | None, bytes | None]:
    """Why the request is refused, if it is, and its body when it was read here (to be replayed)."""
    limit = limit_for(scope["path"])
    declared, chunked = None, False
    for name, header_value in scope["headers"]:
        if name == b"content-length":
            declared = header_value
        elif name == b"transfer-encoding":
            chunked = True
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return _too_large(limit), None
    field = refusal_of_target(scope["path"], scope["query_string"])
    if field:
        return ValidationFailed(field, MESSAGE), None
    reads_body = scope["method"] not in _BODILESS
    if not chunked and (declared is None or not reads_body):
        return None, None  # no body at all, or one nobody reads whose size is known
    body = await _read_body(receive, limit)
    if body is None:
        return _too_large(limit), None
    return (refusal_of_body(body) if reads_body else None), body


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it is larger than ``limit``."""
    chunks: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientLeft
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than {limit // MIB} MiB.")


def _with_headers(scope: Scope, send: Send, request_id_header: tuple[bytes, bytes]) -> Send:
    """``send``, adding to the answer's start the headers it does not set itself: the request id on every
    answer, the API headers and those the request decided (``ANSWER_HEADERS``) on every ``/api`` answer.
    The 500 handler, which may answer from outside this layer, sets the request id and API headers itself."""
    api = is_api(scope["path"])

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            present = {name.lower() for name, _ in headers}
            if api:
                headers.extend(header for header in _API_HEADERS if header[0] not in present)
                if decided := scope["state"].get(ANSWER_HEADERS):
                    headers.extend((name.lower().encode(), value.encode()) for name, value in decided.items())
            if _REQUEST_ID not in present:
                headers.append(request_id_header)
            message["headers"] = headers
        await send(message)

    return send_with_headers
