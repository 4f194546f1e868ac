"""No audit entry ever contains a key, a hash, a password or a token, whoever reads it and however."""

import hashlib
import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from provenant.db import Database
from provenant.models import AuditEntry, User
from tests.factories import bearer, create_agent, create_key, login, register

PASSWORD = "Corr3ct-h0rse-battery-staple"
WRONG_PASSWORD = "Corr3ct-h0rse-battery-typo"


def every_entry_as_text(database: Database) -> str:
    """Every row of the audit table, of every org and of none, read underneath the API."""
    with database.transaction() as session:
        entries = session.scalars(select(AuditEntry)).all()
        columns = [column.key for column in AuditEntry.__mapper__.column_attrs]
        return json.dumps([{column: str(getattr(entry, column)) for column in columns} for entry in entries])


def test_no_entry_contains_a_key_its_hash_a_password_or_a_token(client: TestClient, database: Database) -> None:
    owner = register(client, password=PASSWORD)
    signed_in = login(client, owner.email, PASSWORD)
    client.post("/api/auth/login", json={"email": owner.email, "password": WRONG_PASSWORD})
    client.post("/api/auth/login", json={"email": "stranger@example.com", "password": WRONG_PASSWORD})
    key = create_key(client, owner, name="ci")
    agent = create_agent(client, bearer(key))
    client.patch(f"/api/agents/{agent['id']}", json={"description": "v2"}, headers=bearer(key))
    client.delete(f"/api/agents/{agent['id']}", headers=bearer(key))
    key_id = client.get("/api/org/keys", headers=owner.headers).json()[0]["id"]
    client.delete(f"/api/org/keys/{key_id}", headers=owner.headers)
    client.post("/api/auth/logout", headers=signed_in.headers)
    with database.transaction() as session:
        password_hash = session.scalars(select(User.password_hash).where(User.id == owner.user_id)).one()

    readings = {
        "list": client.get("/api/audit", params={"limit": 200}, headers=owner.headers).text,
        "export": client.get("/api/audit/export", headers=owner.headers).text,
        "database": every_entry_as_text(database),
    }
    secrets = {
        "key": key,
        "key without prefix": key.removeprefix("pk_live_"),
        "key hash": hashlib.sha256(key.encode()).hexdigest(),
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "password hash": password_hash,
        "argon2 marker": "$argon2",
        "registration token": owner.token,
        "login token": signed_in.token,
        "token signature": signed_in.token.rsplit(".", 1)[1],
    }
    # Every entry is there to be searched; the stranger's failed login belongs to no org.
    assert readings["list"].count('"action"') == 9
    assert readings["database"].count("auth.login_failed") == 2
    for where, text in readings.items():
        for what, secret in secrets.items():
            assert secret not in text, f"{what} found in the audit log ({where})"
