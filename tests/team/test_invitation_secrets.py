"""The invitation token is shown once, in the link: never stored, logged, audited or echoed."""

import httpx
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.factories import Client, accept, invite, link_token, persisted_bytes, register
from tests.servers import LiveServer

PREVIEW = "/api/auth/invitations/{}"


def _every_use_of_a_token(client: Client) -> tuple[list[str], list[str]]:
    """Invite, preview, fail, accept, reuse and cancel; returns the tokens and every response body."""
    owner = register(client)
    used, cancelled, pending = (invite(client, owner) for _ in range(3))
    tokens = [link_token(i["inviteLink"]) for i in (used, cancelled, pending)]
    bodies = [
        client.get(PREVIEW.format(tokens[0])).text,
        client.post("/api/auth/accept-invitation", json={"token": tokens[0], "password": "short"}).text,
        accept(client, tokens[0]).text,
        accept(client, tokens[0]).text,
        client.get(PREVIEW.format(tokens[0])).text,
        client.delete(f"/api/org/invitations/{cancelled['id']}", headers=owner.headers).text,
        client.get(PREVIEW.format(tokens[1])).text,
        client.get(PREVIEW.format(tokens[2][::-1])).text,
        client.get("/api/org/invitations", headers=owner.headers).text,
        client.get("/api/audit", headers=owner.headers).text,
        client.get("/api/audit/export", headers=owner.headers).text,
    ]
    return tokens, bodies


def test_tokens_are_absent_from_the_database_and_from_every_answer_but_the_first(
    client: TestClient, database: Database
) -> None:
    tokens, bodies = _every_use_of_a_token(client)

    stored = persisted_bytes(database)
    assert stored  # the search below looks at real data
    for token in tokens:
        assert token.encode() not in stored
        assert not [body for body in bodies if token in body]
    assert not [body for body in bodies if "accept-invitation?token" in body]


def test_tokens_never_reach_the_server_log(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        tokens, _ = _every_use_of_a_token(client)

    log = live_server.log()
    assert "/api/auth/invitations/" in log  # the access log did record the previews
    for token in tokens:
        assert token not in log
