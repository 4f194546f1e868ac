"""POST /api/org/members/{userId}/password-reset: an OWNER or ADMIN issues a member a reset link (who may
follows "change roles"), shown once, audited; the member is emailed that it happened, without the link."""

import pytest
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.email.mailbox import PUBLIC_URL, Mailbox, mail_client, mailbox, text_of
from tests.factories import (
    Account,
    audit_entries,
    bearer,
    create_key,
    invite_and_accept,
    login,
    persisted_bytes,
    register,
)

__all__ = ["mail_client", "mailbox"]  # fixtures

NEW_PASSWORD = "a much better passphrase"


def _issue(client: TestClient, caller: Account | dict[str, str], member_id: str):  # type: ignore[no-untyped-def]
    headers = caller.headers if isinstance(caller, Account) else caller
    return client.post(f"/api/org/members/{member_id}/password-reset", headers=headers)


def _token(link: str) -> str:
    return link.rsplit("token=", 1)[1]


@pytest.fixture
def team(client: TestClient) -> dict[str, Account]:
    owner = register(client)
    return {
        "OWNER": owner,
        "OWNER2": invite_and_accept(client, owner, "OWNER"),
        "ADMIN": invite_and_accept(client, owner, "ADMIN"),
        "ADMIN2": invite_and_accept(client, owner, "ADMIN"),
        "MEMBER": invite_and_accept(client, owner, "MEMBER"),
        "VIEWER": invite_and_accept(client, owner, "VIEWER"),
    }


@pytest.mark.parametrize(
    ("caller", "target", "status"),
    [
        ("OWNER", "OWNER2", 201),
        ("OWNER", "ADMIN", 201),
        ("OWNER", "VIEWER", 201),
        ("ADMIN", "MEMBER", 201),
        ("ADMIN", "VIEWER", 201),
        ("ADMIN", "ADMIN2", 403),
        ("ADMIN", "OWNER", 403),
        ("MEMBER", "VIEWER", 403),
        ("VIEWER", "MEMBER", 403),
        ("OWNER", "OWNER", 409),
    ],
)
def test_who_may_issue_a_link_follows_change_roles(
    client: TestClient, team: dict[str, Account], caller: str, target: str, status: int
) -> None:
    response = _issue(client, team[caller], team[target].user_id)
    assert response.status_code == status, response.text
    if status == 201:
        assert response.json()["resetLink"].startswith("http://testserver/reset-password?token=")
    else:
        assert response.json()["code"] == {403: "forbidden", 409: "cannot_reset_self"}[status]


def test_an_api_key_issues_no_link_even_an_owners(client: TestClient, team: dict[str, Account]) -> None:
    key = create_key(client, team["OWNER"])
    response = _issue(client, bearer(key), team["MEMBER"].user_id)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_a_member_of_another_org_or_nobody_is_not_found(client: TestClient, team: dict[str, Account]) -> None:
    stranger = register(client)
    for member_id in (stranger.user_id, "00000000-0000-0000-0000-000000000000", "not-an-id"):
        response = _issue(client, team["OWNER"], member_id)
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_the_link_works_once_ends_the_members_sessions_and_is_audited_without_the_token(
    client: TestClient, team: dict[str, Account], database: Database
) -> None:
    member = team["MEMBER"]
    issued = _issue(client, team["ADMIN"], member.user_id).json()
    token = _token(issued["resetLink"])
    assert token.encode() not in persisted_bytes(database)

    reset = client.post("/api/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})
    assert reset.status_code == 200 and reset.json()["user"]["id"] == member.user_id
    assert client.get("/api/auth/me", headers=member.headers).json()["code"] == "token_revoked"
    login(client, member.email, NEW_PASSWORD)
    again = client.post("/api/auth/reset-password", json={"token": token, "password": "another passphrase"})
    assert again.json()["code"] == "invalid_reset_token"

    [entry] = audit_entries(client, team["OWNER"].headers, action="team.member.password_reset_issued")
    assert entry["resourceId"] == member.user_id and entry["user"]["id"] == team["ADMIN"].user_id
    assert entry["after"]["email"] == member.email and "expiresAt" in entry["after"]
    assert token not in str(audit_entries(client, team["OWNER"].headers))


def test_a_new_link_ends_the_one_before(client: TestClient, team: dict[str, Account]) -> None:
    first = _token(_issue(client, team["OWNER"], team["VIEWER"].user_id).json()["resetLink"])
    second = _token(_issue(client, team["ADMIN"], team["VIEWER"].user_id).json()["resetLink"])
    assert client.post("/api/auth/reset-password", json={"token": first, "password": NEW_PASSWORD}).status_code == 400
    assert client.post("/api/auth/reset-password", json={"token": second, "password": NEW_PASSWORD}).status_code == 200


def test_the_member_is_emailed_that_a_link_was_issued_but_not_the_link(
    mail_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    owner = register(mail_client, name="Olive Owner")
    member = invite_and_accept(mail_client, owner, "MEMBER")
    issued = _issue(mail_client, owner, member.user_id).json()
    assert issued["resetLink"].startswith(f"{PUBLIC_URL}/reset-password?token=")
    notice = mailbox[0].wait_for(2, to=member.email)[1]  # after the invitation
    assert notice["Subject"] == "A password reset link was issued for your Provenant account"
    assert "Olive Owner issued a link" in text_of(notice)
    assert _token(issued["resetLink"]) not in notice.as_string()
