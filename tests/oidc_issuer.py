"""A stand-in OpenID Connect issuer on loopback, as GitHub Actions' is: discovery, JWKS, and ID tokens
shaped like GitHub's (their documented claims), signed with keys made here (RS256 and ES256).

It is also a small identity provider for single sign-on: ``/authorize`` signs in whoever ``Issuer.person``
says (no login page: the test is the browser) and redirects back with a code; ``/token`` exchanges that code
once, for the registered client (``Issuer.clients``), checking the redirect URI and the PKCE verifier, and
answers an ID token for the person with the nonce it was given. ``Issuer.id_token_overrides`` bend that token
(another audience, another nonce) as a misbehaving provider would.

Real HTTP in a thread of the test process; it records every request it is sent, so a test can tell
whether (and how often) the server fetched from it.
"""

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

AUDIENCE = "provenant"
REPOSITORY = "acme/agent"


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: Any

    def public_jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        jwk: dict[str, Any] = json.loads(algorithm.to_jwk(self.private.public_key()))
        return jwk | {"kid": self.kid, "use": "sig", "alg": self.algorithm}


def make_key(algorithm: str = "RS256") -> SigningKey:
    private = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm == "RS256"
        else ec.generate_private_key(ec.SECP256R1())
    )
    return SigningKey(kid=uuid.uuid4().hex[:16], algorithm=algorithm, private=private)


CLIENT_ID = "provenant-client"
CLIENT_SECRET = "s3cret-of-the-client-" + "x" * 12


@dataclass
class Issuer:
    url: str
    keys: list[SigningKey]
    requests: list[str] = field(default_factory=list)
    # Single sign-on: the registered clients, who /authorize signs in, the codes it handed out.
    clients: dict[str, str] = field(default_factory=lambda: {CLIENT_ID: CLIENT_SECRET})
    person: dict[str, Any] = field(
        default_factory=lambda: {
            "sub": "user-1",
            "email": "alice@acme.example.com",
            "email_verified": True,
            "name": "Alice",
        }
    )
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    discovery_overrides: dict[str, Any] = field(default_factory=dict)

    def rotate(self, algorithm: str = "RS256") -> SigningKey:
        """A new signing key replaces the published ones, as an issuer's rotation does."""
        key = make_key(algorithm)
        self.keys = [key]
        return key

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        ref = overrides.pop("ref", "refs/heads/main")
        repository = overrides.pop("repository", REPOSITORY)
        claims = {
            "jti": str(uuid.uuid4()),
            "sub": f"repo:{repository}:ref:{ref}",
            "aud": AUDIENCE,
            "ref": ref,
            "sha": "e9f1c0a5b7d3e8f2a4c6b8d0e2f4a6c8b0d2e4f6",
            "repository": repository,
            "repository_owner": str(repository).split("/")[0],
            "repository_owner_id": "65432",
            "repository_id": "123456789",
            "repository_visibility": "private",
            "run_id": "7012345678",
            "run_number": "42",
            "run_attempt": "1",
            "actor": "octocat",
            "actor_id": "583231",
            "workflow": "evaluate",
            "workflow_ref": f"{repository}/.github/workflows/evaluate.yml@{ref}",
            "job_workflow_ref": f"{repository}/.github/workflows/evaluate.yml@{ref}",
            "event_name": "push",
            "ref_type": "branch",
            "ref_protected": "true",
            "runner_environment": "github-hosted",
            "iss": self.url,
            "nbf": now - 5,
            "iat": now,
            "exp": now + 300,
        }
        # An override of None leaves the claim out.
        return {name: value for name, value in (claims | overrides).items() if value is not None}

    def token(self, *, key: SigningKey | None = None, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        key = key or self.keys[0]
        return jwt.encode(
            self.claims(**claims), key.private, algorithm=key.algorithm, headers={"kid": key.kid, **(headers or {})}
        )

    def fetches(self, path: str) -> int:
        return sum(1 for seen in self.requests if seen == path)

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/.well-known/jwks",
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        } | self.discovery_overrides

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str]]:
        """A redirect back to the client with a code (or an error), as a provider answers after its login page."""
        if query.get("client_id") not in self.clients or not query.get("redirect_uri"):
            return 400, {}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"query": query, "person": dict(self.person), "used": False}
        back = {"code": code, "state": query.get("state", "")}
        return 302, {"Location": f"{query['redirect_uri']}?{urlencode(back)}"}

    def exchange(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        if client_id is None or self.clients.get(client_id) != secret:
            return 401, {"error": "invalid_client"}
        grant = self.codes.get(form.get("code", ""))
        if grant is None or grant["used"] or grant["query"]["client_id"] != client_id:
            return 400, {"error": "invalid_grant"}
        grant["used"] = True
        query = grant["query"]
        challenge = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
        if form.get("redirect_uri") != query["redirect_uri"] or challenge.rstrip(b"=").decode() != query.get(
            "code_challenge"
        ):
            return 400, {"error": "invalid_grant"}
        return 200, {
            "access_token": "at-" + secrets.token_hex(8),
            "token_type": "Bearer",
            "id_token": self.id_token(client_id, query.get("nonce"), grant["person"]),
        }

    def id_token(self, client_id: str, nonce: str | None, person: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "aud": client_id, "iat": now, "exp": now + 300, "nonce": nonce} | person
        claims |= self.id_token_overrides
        key = self.keys[0]
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(claims, key.private, algorithm=key.algorithm, headers={"kid": key.kid})


def _handler(issuer: Issuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer.requests.append(self.path)
            path, _, query = self.path.partition("?")
            if path == "/.well-known/openid-configuration":
                body: dict[str, Any] = issuer.discovery()
            elif path == "/.well-known/jwks":
                body = {"keys": [key.public_jwk() for key in issuer.keys]}
            elif path == "/authorize":
                status, headers = issuer.authorize(dict(parse_qsl(query)))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            else:
                self.send_error(404)
                return
            self._answer(200, body)

        def do_POST(self) -> None:
            issuer.requests.append(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            if urlsplit(self.path).path != "/token":
                self.send_error(404)
                return
            self._answer(*issuer.exchange(form, self.headers.get("Authorization")))

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


@cache
def _first_key(algorithm: str) -> SigningKey:
    """Each issuer's first key, made once per test process: an RSA key costs tens of milliseconds to make, and
    no test depends on two issuers' keys differing (each app caches the keys of its own issuers)."""
    return make_key(algorithm)


@contextmanager
def running_issuer(*algorithms: str) -> Iterator[Issuer]:
    """An issuer at http://127.0.0.1:<port> publishing a key for each algorithm (RS256 by default)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    keys = [_first_key(algorithm) for algorithm in algorithms or ["RS256"]]
    issuer = Issuer(url=f"http://127.0.0.1:{server.server_address[1]}", keys=keys)
    server.RequestHandlerClass = _handler(issuer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Listener:
    """A TCP port that counts the connections made to it and answers none of them."""

    port: int
    connections: int = 0


@contextmanager
def recording_listener() -> Iterator[Listener]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.1)
    listener = Listener(port=sock.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            listener.connections += 1
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join()
        sock.close()
