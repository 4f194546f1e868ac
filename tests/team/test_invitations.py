"""Invitations: issued with a link shown once, previewed, accepted once, cancelled, expired at 7 days."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database
from tests.factories import Account, accept, invite, invite_and_accept, link_token, login, register, unique

pytestmark = pytest.mark.both_databases  # which invitations are pending is decided by comparing times in SQL

PREVIEW = "/api/auth/invitations/{}"


def _pending(client: TestClient, account: Account) -> list[dict[str, Any]]:
    response = client.get("/api/org/invitations", headers=account.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def _audit(client: TestClient, account: Account, action: str) -> list[dict[str, Any]]:
    response = client.get("/api/audit", params={"action": action}, headers=account.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def _refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["error"]


# --- issuing ------------------------------------------------------------------------------------


def test_an_invitation_answers_its_link_once_and_is_listed_without_it(client: TestClient) -> None:
    owner = register(client, name="Olive")
    email = f"{unique('dana')}@example.com"
    body = {"email": email, "role": "VIEWER"}
    response = client.post("/api/org/invitations", json=body, headers=owner.headers)

    assert response.status_code == 201
    issued = response.json()
    assert set(issued) == {"id", "email", "role", "expiresAt", "inviteLink"}
    assert (issued["email"], issued["role"]) == (email, "VIEWER")
    token = link_token(issued["inviteLink"])
    assert issued["inviteLink"] == f"http://testserver/accept-invitation?token={token}"
    assert len(token) >= 43  # 32 random bytes, URL-safe base64

    [listed] = _pending(client, owner)
    assert listed == {
        "id": issued["id"],
        "email": email,
        "role": "VIEWER",
        "expiresAt": issued["expiresAt"],
        "createdAt": listed["createdAt"],
        "invitedBy": {"name": "Olive", "email": owner.email},
    }
    [entry] = _audit(client, owner, "team.member.invited")
    assert (entry["resourceType"], entry["resourceId"]) == ("invitation", issued["id"])
    assert entry["after"]["email"] == email and entry["after"]["role"] == "VIEWER"


def test_the_role_defaults_to_member(client: TestClient) -> None:
    owner = register(client)
    response = client.post("/api/org/invitations", json={"email": "x@example.com"}, headers=owner.headers)
    assert response.status_code == 201
    assert response.json()["role"] == "MEMBER"


def test_the_link_uses_provenant_public_url_when_it_is_set(settings: Settings, database: Database) -> None:
    public = settings.model_copy(update={"public_url": "https://provenant.example.com/"})
    with TestClient(create_app(public)) as client:
        owner = register(client)
        link = invite(client, owner)["inviteLink"]
    assert link == f"https://provenant.example.com/accept-invitation?token={link_token(link)}"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"email": "not-an-email", "role": "MEMBER"}, "email", id="invalid email"),
        pytest.param({"email": "", "role": "MEMBER"}, "email", id="empty email"),
        pytest.param({"role": "MEMBER"}, "email", id="no email"),
        pytest.param({"email": "a@example.com", "role": "OWNER"}, "role", id="OWNER is not invitable"),
        pytest.param({"email": "a@example.com", "role": "admin"}, "role", id="lower-case role"),
        pytest.param({"email": "a@example.com", "role": "ROOT"}, "role", id="unknown role"),
    ],
)
def test_a_bad_invitation_is_refused_with_the_field_named(client: TestClient, body: dict[str, Any], field: str) -> None:
    owner = register(client)
    response = client.post("/api/org/invitations", json=body, headers=owner.headers)
    _refused(response, 422, "validation_error")
    assert [d["field"] for d in response.json()["details"]] == [field]
    assert _pending(client, owner) == []


def test_an_admin_invites_members_and_viewers_but_not_admins(client: TestClient) -> None:
    owner = register(client)
    admin = invite_and_accept(client, owner, "ADMIN")
    outcome = {}
    for role in ("ADMIN", "MEMBER", "VIEWER"):
        body = {"email": f"{unique(role)}@example.com", "role": role}
        outcome[role] = client.post("/api/org/invitations", json=body, headers=admin.headers).status_code
    assert outcome == {"ADMIN": 403, "MEMBER": 201, "VIEWER": 201}
    assert invite(client, owner, role="ADMIN")["role"] == "ADMIN"


def test_inviting_a_member_of_the_org_conflicts_whatever_the_case_of_the_email(client: TestClient) -> None:
    owner = register(client)
    member = invite_and_accept(client, owner, "MEMBER")
    for email in (member.email, member.email.upper(), owner.email):
        response = client.post("/api/org/invitations", json={"email": email}, headers=owner.headers)
        _refused(response, 409, "already_member")
    assert _pending(client, owner) == []


def test_inviting_an_email_again_replaces_its_pending_invitation(client: TestClient) -> None:
    owner = register(client)
    email = f"{unique('twice')}@example.com"
    first = invite(client, owner, email=email, role="VIEWER")
    second = invite(client, owner, email=email.upper(), role="MEMBER")

    assert [i["id"] for i in _pending(client, owner)] == [second["id"]]
    _refused(client.get(PREVIEW.format(link_token(first["inviteLink"]))), 410, "invitation_cancelled")
    response = accept(client, link_token(second["inviteLink"]))
    assert response.status_code == 201
    assert response.json()["user"]["role"] == "MEMBER"


def test_members_and_viewers_cannot_see_pending_invitations(client: TestClient) -> None:
    owner = register(client)
    invite(client, owner)
    for role in ("MEMBER", "VIEWER"):
        member = invite_and_accept(client, owner, role)
        _refused(client.get("/api/org/invitations", headers=member.headers), 403, "forbidden")


# --- preview and accept (a new person) -----------------------------------------------------------


def test_a_new_person_previews_accepts_and_is_signed_in_with_the_invited_role(client: TestClient) -> None:
    owner = register(client)
    issued = invite(client, owner, role="VIEWER")
    token = link_token(issued["inviteLink"])

    preview = client.get(PREVIEW.format(token))
    assert preview.status_code == 200
    assert preview.json() == {
        "email": issued["email"],
        "role": "VIEWER",
        "org": {"name": "Acme"},
        "existingAccount": False,
    }

    response = accept(client, token, name="  Dana  ", password="a new password")
    assert response.status_code == 201
    body = response.json()
    assert body["user"] | {"id": None} == {
        "id": None,
        "name": "Dana",
        "email": issued["email"],
        "role": "VIEWER",
        "orgId": owner.org_id,
    }
    assert body["org"] == owner.org
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['token']}"}).json()
    assert (me["id"], me["role"], me["orgId"]) == (body["user"]["id"], "VIEWER", owner.org_id)
    assert login(client, issued["email"], "a new password").user["id"] == body["user"]["id"]

    assert _pending(client, owner) == []
    [entry] = _audit(client, owner, "team.invitation.accepted")
    assert (entry["resourceId"], entry["user"]["id"]) == (issued["id"], body["user"]["id"])
    assert entry["after"]["newAccount"] is True


def test_an_invitation_works_once(client: TestClient) -> None:
    owner = register(client)
    token = link_token(invite(client, owner)["inviteLink"])
    assert accept(client, token).status_code == 201

    _refused(accept(client, token, name="Mallory", password="another password"), 410, "invitation_used")
    _refused(client.get(PREVIEW.format(token)), 410, "invitation_used")
    assert len(client.get("/api/org/members", headers=owner.headers).json()) == 2


@pytest.mark.parametrize("token", ["x", "A" * 43, "A" * 256])
def test_an_unknown_token_is_not_found(client: TestClient, token: str) -> None:
    owner = register(client)
    invite(client, owner)
    _refused(client.get(PREVIEW.format(token)), 404, "not_found")
    _refused(accept(client, token), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"password": "long enough"}, "name", id="no name"),
        pytest.param({"name": "  ", "password": "long enough"}, "name", id="blank name"),
        pytest.param({"name": "Dana", "password": "short"}, "password", id="short password"),
        pytest.param({"name": "Dana"}, "password", id="no password"),
        pytest.param({"name": "Dana", "password": "x" * 1025}, "password", id="password too long"),
    ],
)
def test_a_new_account_needs_a_name_and_a_good_password_and_the_link_survives_a_bad_try(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    owner = register(client)
    issued = invite(client, owner)
    token = link_token(issued["inviteLink"])

    response = client.post("/api/auth/accept-invitation", json={"token": token, **body})

    _refused(response, 422, "validation_error")
    assert [d["field"] for d in response.json()["details"]] == [field]
    assert [i["id"] for i in _pending(client, owner)] == [issued["id"]]
    assert accept(client, token).status_code == 201


# --- cancellation -------------------------------------------------------------------------------


def test_a_cancelled_invitations_link_dies_at_once(client: TestClient) -> None:
    owner = register(client)
    issued = invite(client, owner)
    token = link_token(issued["inviteLink"])

    response = client.delete(f"/api/org/invitations/{issued['id']}", headers=owner.headers)
    assert response.status_code == 200
    assert response.json() == {"success": True}

    _refused(client.get(PREVIEW.format(token)), 410, "invitation_cancelled")
    _refused(accept(client, token), 410, "invitation_cancelled")
    assert _pending(client, owner) == []
    [entry] = _audit(client, owner, "team.invitation.cancelled")
    assert entry["resourceId"] == issued["id"]
    assert entry["before"] == {"email": issued["email"], "role": "MEMBER"}
    # Cancelling again changes nothing and says so with success.
    assert client.delete(f"/api/org/invitations/{issued['id']}", headers=owner.headers).status_code == 200
    assert len(_audit(client, owner, "team.invitation.cancelled")) == 1


def test_cancelling_follows_who_may_grant_the_role(client: TestClient) -> None:
    owner = register(client)
    admin = invite_and_accept(client, owner, "ADMIN")
    member = invite_and_accept(client, owner, "MEMBER")
    to_admin, to_viewer = invite(client, owner, role="ADMIN"), invite(client, owner, role="VIEWER")

    def cancel(invitation: dict[str, Any], caller: Account) -> Any:
        return client.delete(f"/api/org/invitations/{invitation['id']}", headers=caller.headers)

    _refused(cancel(to_viewer, member), 403, "forbidden")
    _refused(cancel(to_admin, admin), 403, "forbidden")
    assert cancel(to_viewer, admin).status_code == 200
    assert [i["id"] for i in _pending(client, owner)] == [to_admin["id"]]


def test_unknown_other_orgs_and_used_invitations_cannot_be_cancelled(client: TestClient) -> None:
    owner = register(client)
    stranger = register(client)
    theirs = invite(client, stranger)
    used = invite(client, owner)
    assert accept(client, link_token(used["inviteLink"])).status_code == 201

    def cancel(invitation_id: str) -> Any:
        return client.delete(f"/api/org/invitations/{invitation_id}", headers=owner.headers)

    for invitation_id in ("6d1f0a8e-0000-4000-8000-000000000000", theirs["id"]):
        _refused(cancel(invitation_id), 404, "not_found")
    _refused(cancel(used["id"]), 409, "invitation_used")
    assert client.get(PREVIEW.format(link_token(theirs["inviteLink"]))).status_code == 200


# --- expiry -------------------------------------------------------------------------------------


def test_an_invitation_expires_exactly_seven_days_after_it_was_issued(client: TestClient) -> None:
    issued_at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    deadline = issued_at + timedelta(days=7)
    with time_machine.travel(issued_at, tick=False) as clock:
        owner = register(client)
        early, late = invite(client, owner), invite(client, owner)
        assert early["expiresAt"] == late["expiresAt"] == "2026-03-08T09:30:00.000Z"

        clock.move_to(deadline - timedelta(milliseconds=1))
        assert client.get(PREVIEW.format(link_token(late["inviteLink"]))).status_code == 200
        assert accept(client, link_token(early["inviteLink"])).status_code == 201

        clock.move_to(deadline)
        _refused(client.get(PREVIEW.format(link_token(late["inviteLink"]))), 410, "invitation_expired")
        _refused(accept(client, link_token(late["inviteLink"])), 410, "invitation_expired")
        assert _pending(client, login(client, owner.email)) == []
