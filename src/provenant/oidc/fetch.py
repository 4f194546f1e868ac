"""Fetching an issuer's documents (discovery, JWKS): HTTPS, public addresses only, small and quick.

An issuer URL is typed by a person (a trust policy, a single sign-on configuration), so the server must
not be made to reach what only it can reach: the cloud's metadata service, an admin port on loopback, a
database on the private network. The host is resolved first, every address it resolves to must be
public, and the connection goes to the address that was checked (no second lookup that a hostile DNS
server could answer differently), while the ``Host`` header and the TLS server name stay the issuer's,
so its certificate is verified as usual. Hosts listed in ``PROVENANT_ALLOWED_ISSUER_HOSTS`` skip the
address check and may use plain HTTP (an issuer on the private network; the tests' issuer on loopback).

Every fetch has a connect/read timeout, an overall deadline and a size limit; no proxy from the
environment (it would connect on our behalf to wherever it likes) and no redirects are followed.

httpx is imported where it is first used, not at the top: importing it cost every server start 0.16-0.36 s
(measured with -X importtime on this 2-core machine), and most servers never fetch an issuer.
"""

import asyncio
import ipaddress
import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ssl

    import httpx

TIMEOUT_SECONDS = 5.0
DEADLINE_SECONDS = 10.0
# A discovery document is a few kilobytes, a JWKS a few keys: far below this.
MAX_DOCUMENT_BYTES = 256 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchRefused(Exception):
    """The URL breaks the address rules: nothing was sent to it."""


class FetchFailed(Exception):
    """The issuer could not be reached in time, or answered something that is not a usable document."""


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet: not loopback, private, link-local, shared (CGNAT),
    multicast, reserved or unspecified; an IPv4 address written as IPv6 is judged as itself."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class AddressRules:
    """Where the server may fetch from; ``allowed_hosts`` are the operator's exceptions."""

    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def of(cls, hosts: Iterable[str]) -> "AddressRules":
        return cls(frozenset(host.lower() for host in hosts))

    def is_allowed_host(self, host: str) -> bool:
        return host.lower() in self.allowed_hosts

    def check_url(self, url: str) -> "httpx.URL":
        """The URL parsed, when its form may be fetched: ``https`` (``http`` for an allowed host), no
        credentials, and no address literal that is not public. A host name's addresses are checked
        when it is fetched, for they may change."""
        import httpx  # see the module's docstring

        try:
            parsed = httpx.URL(url)
            host = parsed.host  # decoded here: ValueError for a host IDNA refuses (xn--zz)
        except (httpx.InvalidURL, TypeError, ValueError):
            raise FetchRefused("is not a URL") from None
        if not host or parsed.scheme not in ("https", "http"):
            raise FetchRefused("must be an https:// URL")
        if parsed.userinfo:
            raise FetchRefused("must not carry a user name or password")
        if self.is_allowed_host(host):
            return parsed
        if parsed.scheme != "https":
            raise FetchRefused("must be an https:// URL")
        literal = _ip_literal(host)
        if literal is not None and not is_public(literal):
            raise FetchRefused("must not point at a loopback, private or link-local address")
        return parsed


async def fetch_json(rules: AddressRules, url: str) -> dict[str, Any]:
    """The JSON object at ``url``, fetched under ``rules``: FetchRefused before anything is sent, or
    FetchFailed. Never blocks the event loop (the lookup runs in the loop's resolver thread)."""
    document = await request_json(rules, url)
    if not isinstance(document, dict):
        raise FetchFailed(f"{rules.check_url(url).host} did not answer a JSON object")
    return document


async def request_json(
    rules: AddressRules, url: str, *, headers: dict[str, str] | None = None, form: dict[str, str] | None = None
) -> Any:
    """The JSON answer of ``url`` under the same rules: a GET, or a POST of ``form`` (urlencoded, as OAuth
    token endpoints take it), with ``headers`` added (an Authorization header, say). Any JSON value."""
    parsed = rules.check_url(url)
    try:
        async with asyncio.timeout(DEADLINE_SECONDS):
            body = await _fetch(rules, parsed, headers or {}, form)
    except TimeoutError:
        raise FetchFailed(f"no answer from {parsed.host} within {DEADLINE_SECONDS:g} s") from None
    try:
        return json.loads(body)
    except ValueError:
        raise FetchFailed(f"{parsed.host} did not answer JSON") from None


async def _checked_address(rules: AddressRules, host: str, port: int) -> str:
    """The address to connect to: the first the host resolves to, when every one of them is public."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise FetchFailed(f"{host} could not be resolved") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise FetchFailed(f"{host} could not be resolved")
    if not rules.is_allowed_host(host) and not all(is_public(ipaddress.ip_address(a)) for a in addresses):
        raise FetchRefused(f"{host} resolves to a loopback, private or link-local address")
    return addresses[0]


@cache
def _tls_context() -> "ssl.SSLContext":
    """The CA bundle, loaded once a process: httpx loads it into a new context for each client it makes, which
    cost every fetch 20-40 ms of CPU. A context is only read once made, so every fetch can share it."""
    import httpx

    return httpx.create_ssl_context(trust_env=False)


async def _fetch(
    rules: AddressRules, url: "httpx.URL", extra_headers: dict[str, str], form: dict[str, str] | None
) -> bytes:
    import httpx  # see the module's docstring

    host = url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    address = await _checked_address(rules, host, port)
    headers = {"Accept": "application/json", **extra_headers}
    headers |= {"Host": url.netloc.decode("ascii"), "Accept-Encoding": "identity"}
    # Connect to the checked address; the TLS server name (and so the certificate checked) is the host's.
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    timeout = httpx.Timeout(TIMEOUT_SECONDS)
    client = httpx.AsyncClient(verify=_tls_context(), timeout=timeout, trust_env=False, follow_redirects=False)
    async with client:
        request = client.build_request(
            "GET" if form is None else "POST",
            url.copy_with(host=address),
            headers=headers,
            data=form,
            extensions=extensions,
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as error:
            raise FetchFailed(f"{host} could not be reached ({type(error).__name__})") from None
        try:
            if response.status_code != 200:
                raise FetchFailed(f"{host} answered {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise FetchFailed(f"{host} answered more than {MAX_DOCUMENT_BYTES // 1024} KiB")
        except httpx.HTTPError as error:
            raise FetchFailed(f"{host} broke off its answer ({type(error).__name__})") from None
        finally:
            await response.aclose()
    return bytes(body)
