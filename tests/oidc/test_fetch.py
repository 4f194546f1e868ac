"""The outbound address rules every issuer fetch follows (trusted CI now, single sign-on later)."""

import asyncio
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from provenant.oidc.fetch import MAX_DOCUMENT_BYTES, AddressRules, FetchFailed, FetchRefused, fetch_json, is_public
from tests.oidc_issuer import recording_listener

LOOPBACK_ALLOWED = AddressRules.of(["127.0.0.1"])


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address judged, not bound
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "ff02::1",
    ],
)
def test_private_loopback_and_link_local_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["140.82.112.3", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_internet_addresses_are_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://issuer.example.com",
        "ftp://issuer.example.com",
        "https://10.0.0.1/.well-known/jwks",
        "https://[fe80::1]/",
        "https://[::ffff:7f00:1]/",
        "https://user:secret@issuer.example.com/",
        "https:///nohost",
        "http://localhost:8080",  # localhost is not 127.0.0.1 in the allowed list
        "https://xn--zz/",  # a host IDNA refuses
    ],
)
def test_urls_breaking_the_rules_are_refused_before_any_lookup(url: str) -> None:
    with pytest.raises(FetchRefused):
        LOOPBACK_ALLOWED.check_url(url)


def test_an_allowed_host_may_use_plain_http_and_a_private_address() -> None:
    assert LOOPBACK_ALLOWED.check_url("http://127.0.0.1:8080/x").host == "127.0.0.1"
    assert AddressRules.of(["Issuer.Internal"]).check_url("http://issuer.internal/").host == "issuer.internal"


def test_a_name_resolving_to_loopback_is_refused_and_never_connected_to() -> None:
    with recording_listener() as listener:
        with pytest.raises(FetchRefused, match="loopback"):
            asyncio.run(fetch_json(LOOPBACK_ALLOWED, f"https://localhost:{listener.port}/.well-known/jwks"))
        with pytest.raises(FetchRefused):
            asyncio.run(fetch_json(AddressRules(), f"http://127.0.0.1:{listener.port}/"))
    assert listener.connections == 0


@contextmanager
def _serving(status: int, body: bytes, headers: dict[str, str] | None = None) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/doc"
    finally:
        server.shutdown()
        server.server_close()


def test_a_json_object_is_fetched_from_an_allowed_host() -> None:
    with _serving(200, json.dumps({"issuer": "x"}).encode()) as url:
        assert asyncio.run(fetch_json(LOOPBACK_ALLOWED, url)) == {"issuer": "x"}


@pytest.mark.parametrize(
    ("status", "body", "headers", "reason"),
    [
        (200, b"x" * (MAX_DOCUMENT_BYTES + 1), {}, "more than"),
        (200, b"<html>", {}, "JSON"),
        (200, b"[1, 2]", {}, "object"),
        (500, b"{}", {}, "500"),
        (302, b"{}", {"Location": "http://169.254.169.254/latest/meta-data"}, "302"),  # redirects not followed
    ],
)
def test_unusable_answers_fail_plainly(status: int, body: bytes, headers: dict[str, str], reason: str) -> None:
    with _serving(status, body, headers) as url, pytest.raises(FetchFailed, match=reason):
        asyncio.run(fetch_json(LOOPBACK_ALLOWED, url))


def test_an_issuer_that_never_answers_is_given_up_on_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("provenant.oidc.fetch.DEADLINE_SECONDS", 0.5)
    with socket.socket() as silent:  # the kernel completes the handshake; nobody ever reads or answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        started = time.monotonic()
        with pytest.raises(FetchFailed, match="no answer"):
            asyncio.run(fetch_json(LOOPBACK_ALLOWED, f"http://127.0.0.1:{silent.getsockname()[1]}/"))
        assert time.monotonic() - started < 5
