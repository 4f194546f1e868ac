"""A stand-in for GitHub on loopback, laid out as GitHub Enterprise Server is: the OAuth web flow at
``/login/oauth/authorize`` and ``/login/oauth/access_token``, the REST API under ``/api/v3`` (``/user``,
``/user/emails``), for one registered app. A server under test points at it with PROVENANT_GITHUB_URL and
PROVENANT_GITHUB_API_URL (``server_env()``), an app in the test process with the same settings.

Whoever ``GitHub.user`` and ``GitHub.emails`` say is signed in at GitHub and has already authorized the app:
the authorize page sends the browser straight back with a code, as github.com does then. A code works once,
for the redirect_uri and the PKCE challenge it was given for; like github.com, the token endpoint answers a
wrong code, secret or verifier with 200 and ``{"error": …}``. Real HTTP in a thread of the test process; it
records what it was asked (``requests``, ``token_requests``), so a test can see what the server sent.
"""

import base64
import copy
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

CLIENT_ID = "Iv1.standin"
CLIENT_SECRET = "standin-secret-" + "y" * 20
API_PREFIX = "/api/v3"  # GitHub Enterprise Server's API path


def email(address: str, *, primary: bool = False, verified: bool = True) -> dict[str, Any]:
    """An entry of GitHub's /user/emails."""
    return {"email": address, "primary": primary, "verified": verified, "visibility": "private" if primary else None}


@dataclass
class GitHub:
    url: str
    user: dict[str, Any] = field(default_factory=lambda: {"id": 583231, "login": "octocat", "name": "The Octocat"})
    emails: list[dict[str, Any]] = field(default_factory=lambda: [email("octocat@example.com", primary=True)])
    # Every request: (method, path, its query or form).
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    # code → the authorize request's query, with who authorized (their user and emails then)
    # (any JSON a test wants served, hostile shapes included)
    codes: dict[str, tuple[dict[str, str], Any, Any]] = field(default_factory=dict)
    tokens: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    def server_env(self) -> dict[str, str]:
        """What a `provenant serve` needs to send its Sign in with GitHub here."""
        return {
            "PROVENANT_GITHUB_CLIENT_ID": CLIENT_ID,
            "PROVENANT_GITHUB_CLIENT_SECRET": CLIENT_SECRET,
            "PROVENANT_GITHUB_URL": self.url,
            "PROVENANT_GITHUB_API_URL": self.api_url,
        }

    def asked(self, path: str) -> list[dict[str, str]]:
        """The query (GET) or form (POST) of every request for ``path``."""
        return [params for _, seen, params in self.requests if seen == path]

    # ---- what the endpoints answer ----------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str]]:
        if query.get("client_id") != CLIENT_ID or not query.get("redirect_uri"):
            return 404, {}
        code = secrets.token_hex(10)
        with self._lock:
            self.codes[code] = (query, copy.deepcopy(self.user), copy.deepcopy(self.emails))
        back = {"code": code} | ({"state": query["state"]} if "state" in query else {})
        return 302, {"Location": f"{query['redirect_uri']}?{urlencode(back)}"}

    def access_token(self, form: dict[str, str]) -> dict[str, Any]:
        self.token_requests.append(form)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return {"error": "incorrect_client_credentials"}
        with self._lock:
            found = self.codes.pop(form.get("code", ""), None)  # a code works once
            if found is None:
                return {"error": "bad_verification_code"}
            query, user, emails = found
            if query.get("redirect_uri") != form.get("redirect_uri"):
                return {"error": "redirect_uri_mismatch"}
            if query.get("code_challenge_method") == "S256" and _s256(form.get("code_verifier", "")) != query.get(
                "code_challenge"
            ):
                return {"error": "bad_verification_code"}
            token = "gho_" + secrets.token_hex(16)
            self.tokens[token] = (user, emails)
        return {"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}

    def api(self, path: str, authorization: str) -> tuple[int, Any]:
        scheme, _, token = authorization.partition(" ")
        found = self.tokens.get(token) if scheme.lower() in ("bearer", "token") else None
        if found is None:
            return 401, {"message": "Bad credentials"}
        user, emails = found
        if path == f"{API_PREFIX}/user":
            return 200, user
        if path == f"{API_PREFIX}/user/emails":
            return 200, emails
        return 404, {"message": "Not Found"}


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _handler(github: GitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            github.requests.append(("GET", parts.path, query))
            if parts.path == "/login/oauth/authorize":
                status, headers = github.authorize(query)
                self._send(status, headers, b"")
            else:
                self._json(*github.api(parts.path, self.headers.get("Authorization", "")))

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            github.requests.append(("POST", parts.path, form))
            if parts.path != "/login/oauth/access_token":
                self._json(404, {"message": "Not Found"})
            elif "json" in self.headers.get("Accept", ""):
                self._json(200, github.access_token(form))  # GitHub answers its errors with 200 too
            else:  # GitHub's answer without Accept: application/json
                form_type = {"Content-Type": "application/x-www-form-urlencoded"}
                self._send(200, form_type, urlencode(github.access_token(form)).encode())

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
    """The stand-in at http://127.0.0.1:<port>; stopped on exit."""
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
