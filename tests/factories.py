"""Short plain functions that make accounts, members and keys the way users do."""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.engine import make_url

from provenant.accounts.passwords import hash_password_blocking as hash_password
from provenant.db import Database, is_sqlite
from provenant.models import User

PASSWORD = "correct horse battery"

Client = TestClient | httpx.Client


@dataclass
class Account:
    token: str
    user: dict[str, Any]
    org: dict[str, Any]
    email: str
    password: str = PASSWORD

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)

    @property
    def user_id(self) -> str:
        return str(self.user["id"])

    @property
    def org_id(self) -> str:
        return str(self.org["id"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def register(client: Client, *, name: str = "Owner", email: str | None = None, password: str = PASSWORD) -> Account:
    """A new org and its OWNER, through POST /api/auth/register."""
    email = email or f"{unique('owner')}@example.com"
    response = client.post(
        "/api/auth/register",
        json={"name": name, "email": email, "password": password, "orgName": "Acme", "orgSlug": unique("org")},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(token=body["token"], user=body["user"], org=body["org"], email=email, password=password)


def login(client: Client, email: str, password: str = PASSWORD) -> Account:
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    return Account(token=body["token"], user=body["user"], org=body["org"], email=email, password=password)


def add_member(client: Client, database: Database, owner: Account, role: str, *, name: str = "Member") -> Account:
    """A second person in the owner's org with ``role``, signed in through the real login route.

    Written straight to the database because this is the core's test kit; the team issue's
    invitations are the user-facing way in.
    """
    email = f"{unique(role.lower())}@example.com"
    with database.transaction() as session:
        session.add(
            User(
                org_id=owner.org_id,
                role=role,
                name=name,
                email=email,
                email_key=email.lower(),
                password_hash=hash_password(PASSWORD),
            )
        )
    return login(client, email)


def set_role(database: Database, user_id: str, role: str | None, *, org_id: str | None = None) -> None:
    """Change a user's role (or, with role=None, take them out of their org) underneath the API."""
    values: dict[str, Any] = {"role": role}
    if role is None:
        values["org_id"] = org_id
    with database.transaction() as session:
        session.execute(update(User).where(User.id == user_id).values(**values))


def create_key(client: Client, account: Account, *, name: str = "ci", expires_at: datetime | None = None) -> str:
    body: dict[str, Any] = {"name": name}
    if expires_at is not None:
        body["expiresAt"] = expires_at.isoformat().replace("+00:00", "Z")
    response = client.post("/api/org/keys", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def create_agent(client: Client, headers: dict[str, str], *, name: str | None = None) -> dict[str, Any]:
    name = name or unique("agent")
    response = client.post("/api/agents", json={"name": name, "slug": name.lower()}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def assert_unauthorized(response: httpx.Response, code: str) -> None:
    """A 401 as the contract words it: the code, the error shape, and the ``Bearer`` challenge."""
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"], body
    assert response.headers.get("WWW-Authenticate") == "Bearer", response.headers


def persisted_bytes(database: Database) -> bytes:
    """Everything the database keeps, to search for a secret that must never be stored.

    SQLite: the raw bytes of the database file and its WAL, so deleted or overwritten rows count
    too. PostgreSQL: every row of every table of the test's schema, as JSON text.
    """
    if is_sqlite(database.url):
        path = Path(str(make_url(database.url).database))
        files = sorted(path.parent.glob(f"{path.name}*"))  # provenant.db, -wal, -shm
        return b"".join(file.read_bytes() for file in files)
    chunks: list[bytes] = []
    with database.engine.connect() as connection:
        tables = connection.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        ).scalars()
        for table in list(tables):
            # The table names come from the catalog, not from input.
            query = text(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608
            rows = connection.execute(query).scalars()
            chunks.extend(row.encode() for row in rows)
    return b"\n".join(chunks)


# --- team: the user-facing way into an org ------------------------------------------------------


def invite(client: Client, inviter: Account, *, email: str | None = None, role: str = "MEMBER") -> dict[str, Any]:
    """POST /api/org/invitations; the answer carries ``inviteLink`` (shown once)."""
    email = email or f"{unique(role.lower())}@example.com"
    body = {"email": email, "role": role}
    response = client.post("/api/org/invitations", json=body, headers=inviter.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def link_token(invite_link: str) -> str:
    """The token of ``<origin>/accept-invitation?token=<token>``."""
    return parse_qs(urlsplit(invite_link).query)["token"][0]


def accept(client: Client, token: str, *, name: str = "Invited", password: str = PASSWORD) -> httpx.Response:
    body = {"token": token, "name": name, "password": password}
    return client.post("/api/auth/accept-invitation", json=body)


def invite_and_accept(client: Client, inviter: Account, role: str, *, name: str = "Member") -> Account:
    """A new person in ``inviter``'s org with ``role``, as users do it: invited, then accepted.

    OWNER is never invited directly: the person joins as ADMIN and ``inviter`` promotes them.
    """
    invitation = invite(client, inviter, role="ADMIN" if role == "OWNER" else role)
    response = accept(client, link_token(invitation["inviteLink"]), name=name)
    assert response.status_code == 201, response.text
    body = response.json()
    account = Account(token=body["token"], user=body["user"], org=body["org"], email=invitation["email"])
    if role == "OWNER":
        promoted = client.patch(
            f"/api/org/members/{account.user_id}/role", json={"role": "OWNER"}, headers=inviter.headers
        )
        assert promoted.status_code == 200, promoted.text
        account.user["role"] = "OWNER"
    return account


# --- agents and the audit log -------------------------------------------------------------------


def key_headers(client: Client, account: Account, *, name: str = "ci") -> dict[str, str]:
    """Authorization headers of a new ``pk_live_`` key created by ``account``."""
    return bearer(create_key(client, account, name=name))


def audit_entries(client: Client, headers: dict[str, str], **filters: Any) -> list[dict[str, Any]]:
    """GET /api/audit with ``filters`` as its query, newest first."""
    response = client.get("/api/audit", params=filters, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json())


_NEXT_LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


def next_url(response: httpx.Response, *, to: str | None = None) -> str | None:
    """The URL a list's ``Link: rel="next"`` header names, None on the last page; the header must have exactly
    that shape, and with ``to`` the URL must be absolute and lead to that path (``http://testserver/api/audit``)."""
    link = response.headers.get("link")
    if link is None:
        return None
    match = _NEXT_LINK.match(link)
    assert match, link
    url = match["url"]
    assert to is None or url.startswith(f"{to}?"), url
    return url


# --- two-factor sign-in ---------------------------------------------------------------------------


@dataclass
class TwoFactor:
    secret: str
    recovery_codes: list[str]


def totp_code(secret: str, *, steps: int = 0, at: datetime | None = None) -> str:
    """The code an authenticator app shows ``steps`` 30-second steps from ``at`` (default: now)."""
    moment = (at or datetime.now(UTC)).timestamp() + 30 * steps
    return str(pyotp.TOTP(secret).at(moment))


def turn_on_two_factor(client: Client, account: Account) -> TwoFactor:
    """Sets up an authenticator app and confirms it with the current code, as the Account page does."""
    setup = client.post("/api/auth/2fa/totp", headers=account.headers)
    assert setup.status_code == 201, setup.text
    secret = setup.json()["secret"]
    confirmed = client.post("/api/auth/2fa/totp/confirm", json={"code": totp_code(secret)}, headers=account.headers)
    assert confirmed.status_code == 200, confirmed.text
    return TwoFactor(secret=secret, recovery_codes=confirmed.json()["recoveryCodes"])


def mfa_token(client: Client, email: str, password: str = PASSWORD) -> str:
    """The first step of a sign-in with two-factor on: the right password answers an mfaToken."""
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mfaRequired"] is True and "token" not in body, body
    return str(body["mfaToken"])
