"""Verifying an ID token against its issuer's published keys.

With PyJWT, not Authlib or joserfc: it is already the server's JWT library (the dashboard's HS256
sessions), it is small and well kept, ``jwt.decode`` checks signature, ``iss``, ``aud``, ``exp``, ``nbf``
and ``iat`` with a leeway in one call with the algorithms pinned per call, and ``PyJWK`` reads a JWKS
entry. The other two would add a second JOSE stack (and, for Authlib, an OAuth framework) for the
same checks. What PyJWT's ``PyJWKClient`` would add (fetching) is not used: it fetches with urllib,
blocking, with no address rules; ``IssuerKeys`` fetches through ``oidc.fetch`` instead.
"""

import asyncio
import time
import weakref
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt

from provenant.oidc.fetch import AddressRules, FetchFailed, fetch_json

# Asymmetric only: "none" and HS* (where a public key could be used as the shared secret) never verify.
ALGORITHMS = ("RS256", "ES256")
LEEWAY = timedelta(seconds=60)
REQUIRED_CLAIMS = ["iss", "aud", "exp", "nbf", "iat"]
# A token signed with a key the cache does not hold refetches the issuer's keys, at most this often:
# rotation is picked up within a minute, and a flood of made-up key ids costs the issuer one request a minute.
REFETCH_INTERVAL_SECONDS = 60.0
# Keys are refetched at their next use when older: a key the issuer withdrew stops being trusted.
MAX_KEYS_AGE_SECONDS = 3600.0


class TokenRejected(Exception):
    """The token is not one its issuer signed for us, now; the message says why (never the token)."""


def unverified_issuer(token: str) -> str:
    """The ``iss`` the token claims, read without verifying it: only to know whose keys to verify it with."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise TokenRejected("not a well-formed JWT") from None
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise TokenRejected("no issuer")
    return issuer


def _signing_keys(jwks: dict[str, Any]) -> dict[str | None, jwt.PyJWK]:
    """The RS256 and ES256 (P-256) signing keys of a JWKS, by ``kid``; any other entry is ignored."""
    keys: dict[str | None, jwt.PyJWK] = {}
    entries = jwks.get("keys")
    if not isinstance(entries, list):
        raise FetchFailed("the JWKS has no keys")
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        kty, alg = entry.get("kty"), entry.get("alg")
        if kty == "RSA" and alg in (None, "RS256"):
            algorithm = "RS256"
        elif kty == "EC" and entry.get("crv") == "P-256" and alg in (None, "ES256"):
            algorithm = "ES256"
        else:
            continue
        try:
            key = jwt.PyJWK(entry, algorithm)
        except jwt.PyJWTError:
            continue
        kid = entry.get("kid")
        keys[kid if isinstance(kid, str) else None] = key
    return keys


@dataclass
class _IssuerState:
    keys: dict[str | None, jwt.PyJWK] = field(default_factory=dict)
    fetched_at: float | None = None
    attempted_at: float | None = None
    locks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]" = field(
        default_factory=weakref.WeakKeyDictionary
    )

    def lock(self) -> asyncio.Lock:
        """One fetch at a time per issuer (per event loop: an asyncio lock belongs to one)."""
        return self.locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())

    def find(self, kid: str | None, now: float) -> jwt.PyJWK | None:
        if self.fetched_at is None or now - self.fetched_at > MAX_KEYS_AGE_SECONDS:
            return None
        if kid is None and len(self.keys) == 1:
            return next(iter(self.keys.values()))
        return self.keys.get(kid)

    def may_fetch(self, now: float) -> bool:
        return self.attempted_at is None or now - self.attempted_at >= REFETCH_INTERVAL_SECONDS


class IssuerKeys:
    """The signing keys of the issuers this process has verified tokens of, fetched through discovery
    under the address rules and cached (one per app, made in create_app)."""

    def __init__(self, rules: AddressRules, *, clock: Callable[[], float] = time.time) -> None:
        self.rules = rules
        self._clock = clock
        self._issuers: dict[str, _IssuerState] = {}

    async def key_for(self, issuer: str, kid: str | None) -> jwt.PyJWK:
        state = self._issuers.setdefault(issuer, _IssuerState())
        key = state.find(kid, self._clock())
        if key is not None:
            return key
        async with state.lock():
            now = self._clock()
            key = state.find(kid, now)  # fetched meanwhile by the request this one waited for
            if key is None and state.may_fetch(now):
                state.attempted_at = now
                state.keys = await self._fetch_keys(issuer)
                state.fetched_at = now
                key = state.find(kid, now)
        if key is None:
            raise TokenRejected("signed with a key the issuer does not publish")
        return key

    async def _fetch_keys(self, issuer: str) -> dict[str | None, jwt.PyJWK]:
        discovery = await fetch_json(self.rules, issuer.rstrip("/") + "/.well-known/openid-configuration")
        if discovery.get("issuer") != issuer:
            raise FetchFailed("the discovery document names another issuer")
        jwks_uri = discovery.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise FetchFailed("the discovery document has no jwks_uri")
        return _signing_keys(await fetch_json(self.rules, jwks_uri))


async def verify_id_token(
    keys: IssuerKeys,
    token: str,
    *,
    issuer: str,
    audiences: Collection[str],
    required_claims: Collection[str] = REQUIRED_CLAIMS,
) -> dict[str, Any]:
    """The claims of ``token`` when ``issuer`` signed it (RS256 or ES256) for one of ``audiences`` and it is
    valid now, within 60 s of leeway: TokenRejected otherwise; FetchRefused/FetchFailed when the issuer's
    keys cannot be had. ``required_claims``: a sign-in's ID token need not carry ``nbf`` (OpenID Connect
    Core 2), a CI job's does."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRejected("not a well-formed JWT") from None
    if header.get("alg") not in ALGORITHMS:
        raise TokenRejected("not signed with RS256 or ES256")
    kid = header.get("kid")
    key = await keys.key_for(issuer, kid if isinstance(kid, str) else None)
    try:
        return jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm_name],  # the key's own: an RSA key never verifies an ES256 token
            audience=list(audiences),
            issuer=issuer,
            leeway=LEEWAY,
            options={"require": list(required_claims)},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("expired") from None
    except jwt.ImmatureSignatureError:
        raise TokenRejected("not valid yet") from None
    except jwt.InvalidAudienceError:
        raise TokenRejected("issued for another audience") from None
    except jwt.PyJWTError as error:
        raise TokenRejected(f"not valid ({type(error).__name__})") from None
