"""One TLS context for every httpx client the tests make, instead of one per client.

httpx builds an ``ssl.SSLContext`` for each client it makes, and loading the CA bundle into it costs 20-40 ms of
CPU: more than most requests a test sends. Tests make about two thousand clients a run (``httpx.get``, a
client per test, the SDK's clients), nearly all for plain HTTP on loopback, where the context is never used;
counted on a third of the suite, the loading took 120 of its CPU-seconds. The servers the tests start are not
touched: this runs in the test processes only.

A context made with httpx's defaults is shared by every client asking for those defaults; a client that asks
for anything else (``verify=False``, a CA file of its own, ``trust_env=False``) still gets one made for it.
Sharing is safe: a context is only read once made (httpcore sets the same ALPN list on it for each HTTP/1.1
connection).
"""

from collections.abc import Callable
from functools import cache
from ssl import SSLContext
from typing import Any

import httpx
from httpx._transports import default as transports


def share_the_default_tls_context() -> None:
    make: Callable[..., SSLContext] = transports.create_ssl_context
    if getattr(make, "shares_the_default", False):
        return

    @cache
    def the_default() -> SSLContext:
        return make()

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> SSLContext:
        if verify is True and cert is None and trust_env:
            return the_default()
        return make(verify=verify, cert=cert, trust_env=trust_env)

    create_ssl_context.shares_the_default = True  # type: ignore[attr-defined]
    transports.create_ssl_context = create_ssl_context  # type: ignore[assignment]
    assert httpx.Client()._transport._pool._ssl_context is the_default()  # type: ignore[attr-defined]
