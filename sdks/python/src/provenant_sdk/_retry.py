"""When a failed request is tried again, and after how long.

A request is repeated only when repeating it cannot do a thing twice: GET, HEAD, OPTIONS, PUT and DELETE
(idempotent in this API), and the POSTs the server makes idempotent (get-or-create, a batch of turns that
all carry a ``clientId``), on a dropped connection, a timeout or a 5xx; any request, POST included, when the
connection was never made, since then the server never saw it, and after a 429 (a key's ``rate_limited``,
``too_many_attempts``), which the server answers before the request does anything.
"""

from __future__ import annotations

import email.utils
import random
import time

import httpx

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0

# Failures where the request cannot have reached the server.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures worth another try for a request that is safe to repeat.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def backoff(retries_done: int) -> float:
    """Exponential from INITIAL_DELAY, capped at MAX_DELAY, minus up to 25% jitter."""
    delay = min(INITIAL_DELAY * 2.0**retries_done, MAX_DELAY)
    return delay * (1.0 - 0.25 * random.random())  # noqa: S311 - jitter, not a secret


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header, given as seconds or as an HTTP date."""
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def never_sent(error: httpx.TransportError) -> bool:
    """The request cannot have reached the server."""
    return isinstance(error, _NEVER_SENT)


def delay_after_error(
    repeatable: bool, error: httpx.TransportError, retries_done: int, max_retries: int
) -> float | None:
    """How long to wait before repeating a request that got no answer; ``None``: do not repeat it.

    ``repeatable``: sending the request twice does no more than sending it once.
    """
    if retries_done >= max_retries:
        return None
    if never_sent(error) or (repeatable and isinstance(error, _TRANSIENT)):
        return backoff(retries_done)
    return None


def retry_after(response: httpx.Response, retries_done: int) -> float | None:
    """The wait a 429 or 5xx asks for: its ``Retry-After`` when it says one, else the backoff; ``None`` when
    the server asks for longer than MAX_RETRY_AFTER."""
    asked = parse_retry_after(response.headers.get("retry-after"))
    if asked is None:
        return backoff(retries_done)
    return asked if asked <= MAX_RETRY_AFTER else None


def delay_after_response(
    repeatable: bool, response: httpx.Response, retries_done: int, max_retries: int
) -> float | None:
    """How long to wait before repeating a request answered with an error; ``None``: do not repeat it.

    A ``Retry-After`` of up to MAX_RETRY_AFTER seconds is waited for as given; a longer one is not waited
    for at all, the error goes back to the caller at once.
    """
    if retries_done >= max_retries:
        return None
    if response.status_code == 429:
        # Refused before it did anything (a key's rate limit, too many attempts; no 4xx leaves a write
        # behind), so any request may be sent again, a POST too.
        return retry_after(response, retries_done)
    if not repeatable or response.status_code < 500:
        return None
    return retry_after(response, retries_done)
