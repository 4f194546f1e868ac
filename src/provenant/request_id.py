"""Every response names its request in ``X-Request-Id``, and so does the log line of a 500, so that a
user's report can be matched to the log. The id is made here, never taken from the client.

It is also the ``current`` context variable of the request's task, which every log line written while the
request is handled reads (``logging_setup``), uvicorn's access line included.
"""

import secrets
from contextvars import ContextVar

from starlette.requests import HTTPConnection

HEADER = "X-Request-Id"
STATE_KEY = "request_id"

# Each request runs in a task of its own, with its own copy of the context: the value never leaks to another
# request, so it is not reset when the app returns (the 500 handler, outside request_layer, logs after that).
current: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id(request: HTTPConnection) -> str | None:
    value: str | None = request.scope.get("state", {}).get(STATE_KEY)
    return value


def new() -> str:
    """A fresh id: 16 hex characters, made here for every request (``request_layer``)."""
    return secrets.token_hex(8)
