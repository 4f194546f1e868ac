"""A stand-in for GitHub Actions' OpenID Connect provider, on loopback: the job's token request URL
(``ACTIONS_ID_TOKEN_REQUEST_URL``), and the issuer's discovery document and keys that the Provenant server
fetches to verify what it signs. Real HTTP in a thread; it counts the token requests it answered."""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from time_machine import escape_hatch

REPOSITORY = "acme/evals"


def _real_time() -> float:
    """GitHub's clock: tests that move the client's clock (time_machine) do not move GitHub's."""
    return escape_hatch.time.time() if escape_hatch.is_travelling() else time.time()


@dataclass
class CiProvider:
    url: str
    request_token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    audiences: list[str] = field(default_factory=list)  # one per token request answered
    _key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    kid: str = "stand-in-1"

    @property
    def token_request_url(self) -> str:
        # GitHub's URL carries a query of its own; the client adds `audience` to it.
        return f"{self.url}/token?api-version=2.0"

    def env(self) -> dict[str, str]:
        return {
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.token_request_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def id_token(self, audience: str = "provenant", **claims: Any) -> str:
        now = int(_real_time())
        body = {
            "iss": self.url,
            "aud": audience,
            "sub": f"repo:{REPOSITORY}:ref:refs/heads/main",
            "repository": REPOSITORY,
            "ref": "refs/heads/main",
            "sha": "0" * 40,
            "run_id": "1234",
            "jti": str(uuid.uuid4()),
            "iat": now,
            "nbf": now - 5,
            "exp": now + 300,
        } | claims
        return jwt.encode(body, self._key, algorithm="RS256", headers={"kid": self.kid})

    def policy(self, **fields: Any) -> dict[str, Any]:
        return {
            "name": "evals",
            "issuer": self.url,
            "audience": "provenant",
            "claims": {"repository": REPOSITORY, "ref": "refs/heads/main"},
            "access": "ingest",
        } | fields

    def _jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.get_algorithm_by_name("RS256").to_jwk(self._key.public_key()))
        return {"keys": [public | {"kid": self.kid, "use": "sig", "alg": "RS256"}]}


def _handler(provider: CiProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/token":
                if self.headers.get("Authorization") != f"bearer {provider.request_token}":
                    self._answer(403, {"message": "wrong request token"})
                    return
                audience = parse_qs(parts.query).get("audience", ["https://github.com/acme"])[0]
                provider.audiences.append(audience)
                self._answer(200, {"count": 1, "value": provider.id_token(audience)})
            elif parts.path == "/.well-known/openid-configuration":
                self._answer(200, {"issuer": provider.url, "jwks_uri": f"{provider.url}/.well-known/jwks"})
            elif parts.path == "/.well-known/jwks":
                self._answer(200, provider._jwks())
            else:
                self._answer(404, {})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    return Handler


@contextmanager
def ci_provider() -> Iterator[CiProvider]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    provider = CiProvider(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
