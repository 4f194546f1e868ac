"""Single sign-on's two legs: the redirect to the org's provider (authorization code with PKCE S256, state,
nonce), and what comes back (the code exchanged with the client secret and the verifier, the ID token
checked in full).

Libraries: httpx (through ``oidc.fetch``: address rules, timeouts, size limits) speaks to the token endpoint;
PyJWT (through ``oidc.tokens``: the provider's JWKS, cached, refetched for an unknown ``kid`` at most once a
minute) checks the ID token's signature, ``iss``, ``aud``, ``exp`` and ``iat``; ``azp``, ``nonce`` and
``email_verified`` are checked here. Authlib would bring a second JOSE stack and an OAuth framework for the
same few requests, and fetch without the server's address rules.
"""

import base64
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from provenant.auth.encryption import EncryptionKey
from provenant.models import SsoConfig
from provenant.oidc.fetch import AddressRules, FetchFailed, FetchRefused, request_json
from provenant.oidc.tokens import IssuerKeys, TokenRejected, verify_id_token
from provenant.sign_in import domains
from provenant.sign_in.pending import Pending
from provenant.sign_in.refusals import SignInRefused
from provenant.sign_in.sso_config import client_secret

CALLBACK_PATH = "/api/auth/sso/callback"
SCOPE = "openid email profile"
# A sign-in's ID token need not carry nbf; it must say who (sub), to whom (aud), by whom (iss), when.
ID_TOKEN_CLAIMS = ("iss", "sub", "aud", "exp", "iat")


@dataclass(frozen=True, slots=True)
class VerifiedPerson:
    email: str
    name: str | None
    subject: str


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` added to whatever query it has (an endpoint may carry one of its own)."""
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params, quote_via=quote)]))
    return urlunsplit(parts._replace(query=query))


def authorization_url(config: SsoConfig, pending: Pending, *, redirect_uri: str, email: str) -> str:
    return with_query(
        config.authorization_endpoint,
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": pending.code_challenge,
            "code_challenge_method": "S256",
            "login_hint": email,
        },
    )


def _basic(client_id: str, secret: str) -> str:
    # RFC 6749 2.3.1: each form-urlencoded before the two are joined and base64-encoded.
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


async def _token_response(
    rules: AddressRules, key: EncryptionKey, config: SsoConfig, *, code: str, verifier: str, redirect_uri: str
) -> dict[str, Any]:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
    secret = client_secret(key, config)
    headers = {}
    if config.token_auth_method == "client_secret_post":  # noqa: S105 - a method's name
        form |= {"client_id": config.client_id, "client_secret": secret}
    else:
        headers["Authorization"] = _basic(config.client_id, secret)
    try:
        answer = await request_json(rules, config.token_endpoint, headers=headers, form=form)
    except (FetchRefused, FetchFailed):
        raise SignInRefused("provider_unreachable") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("id_token"), str):
        raise SignInRefused("provider_unreachable")
    return answer


async def finish(
    rules: AddressRules,
    keys: IssuerKeys,
    key: EncryptionKey,
    config: SsoConfig,
    pending: Pending,
    *,
    code: str,
    redirect_uri: str,
) -> VerifiedPerson:
    """The person the provider signed in, verified in full; SignInRefused with the reason otherwise."""
    answer = await _token_response(rules, key, config, code=code, verifier=pending.verifier, redirect_uri=redirect_uri)
    try:
        claims = await verify_id_token(
            keys,
            answer["id_token"],
            issuer=config.issuer,
            audiences=[config.client_id],
            required_claims=ID_TOKEN_CLAIMS,
        )
    except (TokenRejected, FetchRefused, FetchFailed):
        raise SignInRefused("invalid_id_token") from None
    audience = claims["aud"]
    azp = claims.get("azp")
    # OpenID Connect Core 3.1.3.7: a token for several audiences names us as its authorized party.
    if (isinstance(audience, list) and len(audience) > 1 and azp is None) or (
        azp is not None and azp != config.client_id
    ):
        raise SignInRefused("invalid_id_token")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), pending.nonce.encode()):
        raise SignInRefused("invalid_id_token")
    email = claims.get("email")
    if not isinstance(email, str) or not 3 <= len(email) <= 320 or domains.domain_of(email) is None:
        raise SignInRefused("email_not_verified")
    if claims.get("email_verified") is not True:
        raise SignInRefused("email_not_verified")
    name = claims.get("name")
    return VerifiedPerson(
        email=email, name=name if isinstance(name, str) and name.strip() else None, subject=str(claims["sub"])
    )
