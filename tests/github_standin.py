"""A stand-in for GitHub (or GitHub Enterprise Server) on loopback: the OAuth web flow's authorize page and
token endpoint, and the REST API's ``/user`` and ``/user/emails``, as documented, for one registered app.

``authorize`` signs in whoever ``GitHub.user`` and ``GitHub.emails`` say (the test is the browser). A code
works once; an access token works for the API. Real HTTP in a thread of the test process.
"""

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


@dataclass
class GitHub:
    url: str
    user: dict[str, Any] = field(default_factory=lambda: {"id": 583231, "login": "octocat", "name": "The Octocat"})
    emails: list[dict[str, Any]] = field(
        default_factory=lambda: [{"email": "octocat@example.com", "primary": True, "verified": True}]
    )
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str]]:
        if query.get("client_id") != CLIENT_ID or not query.get("redirect_uri"):
            return 404, {}
        code = secrets.token_hex(10)
        self.codes[code] = query
        back = {"code": code, "state": query.get("state", "")}
        return 302, {"Location": f"{query['redirect_uri']}?{urlencode(back)}"}

    def access_token(self, form: dict[str, str]) -> dict[str, Any]:
        self.token_requests.append(form)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return {"error": "incorrect_client_credentials"}
        query = self.codes.pop(form.get("code", ""), None)
        if query is None or query.get("redirect_uri") != form.get("redirect_uri"):
            return {"error": "bad_verification_code"}
        token = "gho_" + secrets.token_hex(16)
        self.tokens.add(token)
        return {"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}


def _handler(github: GitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if path == "/login/oauth/authorize":
                status, headers = github.authorize(dict(parse_qsl(query)))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if token not in github.tokens:
                self._answer(401, {"message": "Bad credentials"})
            elif path == f"{API_PREFIX}/user":
                self._answer(200, github.user)
            elif path == f"{API_PREFIX}/user/emails":
                self._answer(200, github.emails)
            else:
                self._answer(404, {"message": "Not Found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            if urlsplit(self.path).path != "/login/oauth/access_token":
                self._answer(404, {"message": "Not Found"})
                return
            self._answer(200, github.access_token(form))  # GitHub answers its errors with 200 too

        def _answer(self, status: int, body: Any) -> None:
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
def running_github() -> Iterator[GitHub]:
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
