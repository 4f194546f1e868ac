"""An invitation to an email that already has an account: only that account's password lets it in,
and moving it to the new org leaves the old org an OWNER and stops the keys made there."""

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import (
    Account,
    accept,
    assert_unauthorized,
    bearer,
    create_agent,
    create_key,
    invite,
    invite_and_accept,
    link_token,
    login,
    register,
)

PREVIEW = "/api/auth/invitations/{}"


def _audit(client: TestClient, account: Account, action: str) -> list[dict[str, Any]]:
    response = client.get("/api/audit", params={"action": action}, headers=account.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def _member_ids(client: TestClient, account: Account) -> set[str]:
    return {m["id"] for m in client.get("/api/org/members", headers=account.headers).json()}


def test_accepting_for_someone_elses_account_without_its_password_changes_nothing(client: TestClient) -> None:
    victim = register(client, name="Victor")
    victim_key = create_key(client, victim)
    attacker = register(client, name="Mallory")
    issued = invite(client, attacker, email=victim.email.upper(), role="ADMIN")
    token = link_token(issued["inviteLink"])
    assert client.get(PREVIEW.format(token)).json()["existingAccount"] is True

    attempts = [
        {"token": token, "name": "Mallory"},
        {"token": token, "name": "Mallory", "password": ""},
        {"token": token, "name": "Mallory", "password": "a brand new password"},
        {"token": token, "password": victim.password + " "},
    ]
    statuses = [client.post("/api/auth/accept-invitation", json=body) for body in attempts]
    assert [(r.status_code, r.json()["code"]) for r in statuses] == [
        (422, "validation_error"),
        (401, "invalid_credentials"),
        (401, "invalid_credentials"),
        (401, "invalid_credentials"),
    ]

    # The account is where it was, as it was, and its key still works.
    me = client.get("/api/auth/me", headers=victim.headers).json()
    assert (me["orgId"], me["role"], me["name"]) == (victim.org_id, "OWNER", "Victor")
    assert login(client, victim.email).org["id"] == victim.org_id
    assert client.get("/api/auth/me", headers=bearer(victim_key)).status_code == 200
    assert victim.user_id not in _member_ids(client, attacker)
    # The invitation is still open, and nothing was accepted.
    assert client.get(PREVIEW.format(token)).status_code == 200
    assert _audit(client, attacker, "team.invitation.accepted") == []
    # The account's own org sees the failed attempts on its password; the inviting org does not.
    failed = _audit(client, victim, "auth.login_failed")
    assert len(failed) == 3 and {e["resourceId"] for e in failed} == {victim.user_id}
    assert _audit(client, attacker, "auth.login_failed") == []


def test_an_existing_account_moves_with_its_password_and_its_old_keys_stop(client: TestClient) -> None:
    old_owner = register(client)
    mover = invite_and_accept(client, old_owner, "OWNER", name="Mo")
    old_key = create_key(client, mover, name="old-org-ci")
    agent = create_agent(client, bearer(old_key))
    new_owner = register(client)
    issued = invite(client, new_owner, email=mover.email, role="MEMBER")

    response = accept(client, link_token(issued["inviteLink"]), name="Ignored", password=mover.password)

    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {
        "id": mover.user_id,
        "name": "Mo",
        "email": mover.email,
        "role": "MEMBER",
        "orgId": new_owner.org_id,
    }
    assert body["org"] == new_owner.org
    assert login(client, mover.email).org["id"] == new_owner.org_id

    # Keys made in the old org stop; that org still lists them with their creator, to revoke.
    assert_unauthorized(client.get("/api/auth/me", headers=bearer(old_key)), "api_key_owner_removed")
    [listed] = client.get("/api/org/keys", headers=old_owner.headers).json()
    assert (listed["name"], listed["user"]["id"]) == ("old-org-ci", mover.user_id)
    assert client.delete(f"/api/org/keys/{listed['id']}", headers=old_owner.headers).status_code == 200
    assert client.get("/api/org/keys", headers=bearer(body["token"])).json() == []
    # What they made in the old org stays there.
    assert client.get(f"/api/agents/{agent['id']}", headers=old_owner.headers).status_code == 200

    assert _member_ids(client, old_owner) == {old_owner.user_id}
    [left] = _audit(client, old_owner, "team.member.left")
    assert (left["resourceId"], left["before"]) == (mover.user_id, {"role": "OWNER"})
    [accepted] = _audit(client, new_owner, "team.invitation.accepted")
    assert accepted["after"]["newAccount"] is False


def test_the_last_owner_of_an_org_cannot_leave_it_by_accepting_an_invitation(client: TestClient) -> None:
    solo = register(client)
    member = invite_and_accept(client, solo, "MEMBER")
    other = register(client)
    issued = invite(client, other, email=solo.email)
    token = link_token(issued["inviteLink"])

    response = accept(client, token, password=solo.password)

    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"
    assert "last OWNER of Acme" in response.json()["error"]
    assert client.get("/api/auth/me", headers=solo.headers).json()["role"] == "OWNER"
    assert _member_ids(client, solo) == {solo.user_id, member.user_id}
    assert client.get(PREVIEW.format(token)).status_code == 200
    assert _audit(client, other, "team.invitation.accepted") == []

    # Once someone else is an OWNER there, the same link works.
    promote = client.patch(f"/api/org/members/{member.user_id}/role", json={"role": "OWNER"}, headers=solo.headers)
    assert promote.status_code == 200
    assert accept(client, token, password=solo.password).status_code == 200


def test_a_removed_person_can_be_invited_back_but_their_old_keys_stay_dead(client: TestClient) -> None:
    owner = register(client)
    member = invite_and_accept(client, owner, "MEMBER")
    old_key = create_key(client, member)
    assert client.delete(f"/api/org/members/{member.user_id}", headers=owner.headers).status_code == 200

    issued = invite(client, owner, email=member.email, role="VIEWER")
    response = accept(client, link_token(issued["inviteLink"]), password=member.password)

    assert response.status_code == 200
    assert response.json()["user"]["role"] == "VIEWER"
    assert client.get("/api/auth/me", headers=member.headers).json()["role"] == "VIEWER"
    assert_unauthorized(client.get("/api/auth/me", headers=bearer(old_key)), "api_key_revoked")
    new_key = create_key(client, member)
    assert client.get("/api/auth/me", headers=bearer(new_key)).json()["role"] == "VIEWER"
