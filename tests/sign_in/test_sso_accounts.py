"""Who single sign-on signs in: enforced domains, accounts without a password, people removed and back,
and two-factor sign-in kept."""

import pytest
from fastapi.testclient import TestClient

from provenant.db import Database
from tests.email.mailbox import Mailbox, mail_client, mailbox, text_of
from tests.factories import (
    PASSWORD,
    accept,
    add_member,
    audit_entries,
    bearer,
    invite,
    link_token,
    register,
    turn_on_two_factor,
)
from tests.oidc_issuer import Issuer
from tests.sign_in.conftest import DOMAIN, completed_code, configure_sso, exchange, sign_in_through_provider

__all__ = ["mail_client", "mailbox"]  # fixtures


def sso_sign_in(client: TestClient, email: str) -> dict[str, object]:
    answer = exchange(client, completed_code(sign_in_through_provider(client, email)))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.both_databases  # the domain lookup is SQL
def test_enforced_single_sign_on_refuses_passwords_for_its_domains(
    client: TestClient, database: Database, issuer: Issuer
) -> None:
    owner = register(client, email=f"owner@{DOMAIN}")
    outsider = register(client)
    configure_sso(client, owner, issuer, enforce=True)
    for email in (f"owner@{DOMAIN}", f"OWNER@{DOMAIN.upper()}", f"nobody@{DOMAIN}"):
        refused = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert refused.status_code == 403 and refused.json()["code"] == "sso_required", email
        forgot = client.post("/api/auth/forgot-password", json={"email": email})
        assert forgot.status_code == 403 and forgot.json()["code"] == "sso_required", email
    assert client.post("/api/auth/login", json={"email": outsider.email, "password": PASSWORD}).status_code == 200
    issuer.person = {"sub": "o", "email": f"owner@{DOMAIN}", "email_verified": True}
    assert sso_sign_in(client, f"owner@{DOMAIN}")["user"]["id"] == owner.user_id  # type: ignore[index]
    configure_sso(client, owner, issuer, enforce=False)
    assert client.post("/api/auth/login", json={"email": owner.email, "password": PASSWORD}).status_code == 200


def test_an_invitation_for_an_email_under_enforced_single_sign_on_is_not_accepted_with_a_password(
    client: TestClient, issuer: Issuer
) -> None:
    """Accepting signs the person in with a password: where the org's provider is the only way in, they come
    through it (Sign in with SSO) instead. Nothing is created or moved by the refusal."""
    owner = register(client)
    elsewhere = register(client)
    already_there = register(client, email=f"early@{DOMAIN}")  # made before the domain was claimed
    configure_sso(client, owner, issuer, enforce=True)
    tokens = [
        link_token(invite(client, inviter, email=email)["inviteLink"])
        for inviter, email in (
            (owner, f"bob@{DOMAIN}"),
            (elsewhere, f"carol@{DOMAIN}"),
            (elsewhere, already_there.email),
        )
    ]
    for token in tokens:
        refused = accept(client, token)
        assert refused.status_code == 403 and refused.json()["code"] == "sso_required", refused.text
    members = client.get("/api/org/members", headers=elsewhere.headers).json()
    assert [member["email"] for member in members] == [elsewhere.email]
    assert client.get("/api/auth/me", headers=already_there.headers).json()["org"]["id"] == already_there.org_id
    configure_sso(client, owner, issuer, enforce=False)  # without enforcement, the same link works
    assert accept(client, tokens[1]).status_code == 201


def test_a_reset_link_for_an_enforced_member_is_refused(client: TestClient, issuer: Issuer) -> None:
    owner = register(client)
    configure_sso(client, owner, issuer, enforce=True)
    member = sso_sign_in(client, f"alice@{DOMAIN}")["user"]
    issued = client.post(f"/api/org/members/{member['id']}/password-reset", headers=owner.headers)  # type: ignore[index]
    assert issued.status_code == 403 and issued.json()["code"] == "sso_required"


def test_an_account_made_by_single_sign_on_has_no_password(client: TestClient, issuer: Issuer) -> None:
    configure_sso(client, register(client), issuer)
    sso_sign_in(client, f"alice@{DOMAIN}")
    for password in ("", PASSWORD, "x" * 1024):
        refused = client.post("/api/auth/login", json={"email": f"alice@{DOMAIN}", "password": password})
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_credentials"


def test_forgot_password_tells_an_account_without_one_to_use_single_sign_on(
    mail_client: TestClient, mailbox: tuple[Mailbox, int], issuer: Issuer
) -> None:
    configure_sso(mail_client, register(mail_client), issuer)
    sso_sign_in(mail_client, f"alice@{DOMAIN}")
    answer = mail_client.post("/api/auth/forgot-password", json={"email": f"alice@{DOMAIN}"})
    assert answer.status_code == 200
    [message] = mailbox[0].wait_for(1, to=f"alice@{DOMAIN}")
    text = text_of(message)
    assert "Sign in with SSO" in text and "reset-password" not in text


@pytest.mark.both_databases  # membership moves in SQL
def test_a_removed_person_comes_back_with_the_default_role_and_without_their_old_keys(
    client: TestClient, database: Database, issuer: Issuer
) -> None:
    owner = register(client)
    configure_sso(client, owner, issuer, defaultRole="VIEWER")
    issuer.person = {"sub": "a", "email": f"alice@{DOMAIN}", "email_verified": True}
    first = sso_sign_in(client, f"alice@{DOMAIN}")
    alice_id = first["user"]["id"]  # type: ignore[index]
    assert (
        client.patch(f"/api/org/members/{alice_id}/role", json={"role": "MEMBER"}, headers=owner.headers).status_code
        == 200
    )
    alice_headers = bearer(str(first["token"]))
    key = client.post("/api/org/keys", json={"name": "old"}, headers=alice_headers).json()["key"]
    assert client.delete(f"/api/org/members/{alice_id}", headers=owner.headers).status_code == 200

    back = sso_sign_in(client, f"alice@{DOMAIN}")
    assert back["user"]["id"] == alice_id and back["user"]["role"] == "VIEWER"  # type: ignore[index]
    assert client.get("/api/auth/me", headers=bearer(key)).status_code == 401  # the old key stays dead
    joined = audit_entries(client, owner.headers, action="team.member.joined_sso")
    assert len(joined) == 2 and joined[0]["resourceId"] == alice_id


def test_a_person_removed_from_another_org_is_not_taken_in(
    client: TestClient, database: Database, issuer: Issuer
) -> None:
    elsewhere = register(client)
    person = add_member(client, database, elsewhere, "MEMBER")
    assert client.delete(f"/api/org/members/{person.user_id}", headers=elsewhere.headers).status_code == 200
    configure_sso(client, register(client), issuer, domains=[person.email.rpartition("@")[2]])
    issuer.person = {"sub": "p", "email": person.email, "email_verified": True}
    answer = sign_in_through_provider(client, person.email)
    assert answer.headers["location"] == "/sso-complete?error=account_in_another_org"


def test_two_factor_sign_in_still_asks_for_the_code(client: TestClient, issuer: Issuer) -> None:
    owner = register(client, email=f"owner@{DOMAIN}")
    two_factor = turn_on_two_factor(client, owner)
    configure_sso(client, owner, issuer)
    issuer.person = {"sub": "o", "email": f"owner@{DOMAIN}", "email_verified": True}
    answer = exchange(client, completed_code(sign_in_through_provider(client, f"owner@{DOMAIN}"))).json()
    assert answer["mfaRequired"] is True and "token" not in answer
    done = client.post(
        "/api/auth/login/2fa", json={"mfaToken": answer["mfaToken"], "code": two_factor.recovery_codes[0]}
    )
    assert done.status_code == 200 and done.json()["user"]["id"] == owner.user_id
