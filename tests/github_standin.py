"""A stand-in for GitHub on loopback, laid out as GitHub Enterprise Server is: the OAuth web flow at
``/login/oauth/authorize`` and ``/login/oauth/access_token``, the REST API under ``/api/v3`` (``/user``,
``/user/emails``). The server under test points at it with PROVENANT_GITHUB_URL and PROVENANT_GITHUB_API_URL.

Whoever the test says is signed in at GitHub (``GitHub.signed_in``) has already authorized the app: the
authorize page sends the browser straight back with a code, as github.com does then. Like github.com, the
token endpoint answers a wrong code, secret or PKCE verifier with 200 and ``{"error": …}``. Real HTTP in a thread of the
test process; it records what it was asked (``requests``), so a test can see what the server sent.
"""

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "Iv1.standin0client"
CLIENT_SECRET = "standin-client-secret-0123456789abcdef"


@dataclass
class GitHubUser:
    id: int
    login: str
    name: str
    # GitHub's /user/emails entries: {email, primary, verified, visibility}.
    emails: list[dict[str, Any]]


def email(address: str, *, primary: bool = False, verified: bool = True) -> dict[str, Any]:
    return {"email": address, "primary": primary, "verified": verified, "visibility": "private" if primary else None}


@dataclass
class GitHub:
    url: str
    signed_in: GitHubUser | None = None
    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    # code → who authorized, the redirect_uri and the PKCE challenge it was given for
    _codes: dict[str, tuple[GitHubUser, str, str | None]] = field(default_factory=dict)
    _tokens: dict[str, GitHubUser] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v3"

    def server_env(self) -> dict[str, str]:
        """What a `provenant serve` needs to send its Sign in with GitHub here."""
        return {
            "PROVENANT_GITHUB_CLIENT_ID": CLIENT_ID,
            "PROVENANT_GITHUB_CLIENT_SECRET": CLIENT_SECRET,
            "PROVENANT_GITHUB_URL": self.url,
            "PROVENANT_GITHUB_API_URL": self.api_url,
        }

    def asked(self, path: str) -> list[dict[str, list[str]]]:
        """The query (GET) or form (POST) of every request for ``path``."""
        return [params for _, seen, params in self.requests if seen == path]

    # ---- what the endpoints answer ----------------------------------------------------------------------

    def authorize(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        if query.get("client_id") != [CLIENT_ID] or self.signed_in is None:
            return 404, {"Content-Type": "text/plain"}, b"Not Found"
        redirect_uri = query.get("redirect_uri", [""])[0]
        code = secrets.token_hex(10)
        challenge = query["code_challenge"][0] if query.get("code_challenge_method") == ["S256"] else None
        with self._lock:
            self._codes[code] = (self.signed_in, redirect_uri, challenge)
        answer = {"code": code} | ({"state": query["state"][0]} if "state" in query else {})
        return 302, {"Location": f"{redirect_uri}?{urlencode(answer)}"}, b""

    def access_token(self, form: dict[str, list[str]]) -> dict[str, Any]:
        if form.get("client_id") != [CLIENT_ID] or form.get("client_secret") != [CLIENT_SECRET]:
            return {"error": "incorrect_client_credentials"}
        with self._lock:
            found = self._codes.pop(form.get("code", [""])[0], None)  # a code works once
            if found is None:
                return {"error": "bad_verification_code"}
            user, redirect_uri, challenge = found
            if "redirect_uri" in form and form["redirect_uri"] != [redirect_uri]:
                return {"error": "redirect_uri_mismatch"}
            if challenge is not None and _s256(form.get("code_verifier", [""])[0]) != challenge:
                return {"error": "bad_verification_code"}
            token = f"gho_{secrets.token_hex(18)}"
            self._tokens[token] = user
        return {"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}

    def api(self, path: str, authorization: str) -> tuple[int, Any]:
        scheme, _, token = authorization.partition(" ")
        user = self._tokens.get(token) if scheme.lower() in ("bearer", "token") else None
        if user is None:
            return 401, {"message": "Requires authentication"}
        if path == "/api/v3/user":
            public = next((e["email"] for e in user.emails if e["visibility"] == "public"), None)
            return 200, {"id": user.id, "login": user.login, "name": user.name, "email": public}
        if path == "/api/v3/user/emails":
            return 200, user.emails
        return 404, {"message": "Not Found"}


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _handler(github: GitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            github.requests.append(("GET", parts.path, query))
            if parts.path == "/login/oauth/authorize":
                self._send(*github.authorize(query))
            elif parts.path.startswith("/api/v3/"):
                status, body = github.api(parts.path, self.headers.get("Authorization", ""))
                self._json(status, body)
            else:
                self._json(404, {"message": "Not Found"})

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            github.requests.append(("POST", parts.path, form))
            if parts.path == "/login/oauth/access_token" and "json" in self.headers.get("Accept", ""):
                self._json(200, github.access_token(form))
            elif parts.path == "/login/oauth/access_token":
                form_type = {"Content-Type": "application/x-www-form-urlencoded"}
                self._send(200, form_type, urlencode(github.access_token(form)).encode())
            else:
                self._json(404, {"message": "Not Found"})

        def _json(self, status: int, body: Any) -> None:
            self._send(status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body).encode())

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    return Handler


@contextmanager
def running_github() -> Iterator[GitHub]:
    """The stand-in at http://127.0.0.1:<port>, nobody signed in yet; stopped on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    github = GitHub(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(github)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield github
    finally:
        server.shutdown()
        server.server_close()
