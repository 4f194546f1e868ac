"""PROVENANT_SIGNUP, the headless first start (PROVENANT_INIT_*) and GET /api/auth/config."""

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from provenant.accounts import first_start
from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database
from tests.email.mailbox import PUBLIC_URL
from tests.factories import accept, bearer, invite, link_token, login, persisted_bytes
from tests.servers import serve

INIT_KEY = "pk_live_" + "0123456789abcdef" * 2
INIT = {
    "init_org_name": "Acme Robotics",
    "init_org_slug": "acme-robotics",
    "init_user_name": "Ops",
    "init_user_email": "Ops@Example.com",
    "init_user_password": "a long first password",
}


def _settings(settings: Settings, **values: object) -> Settings:
    return Settings(**(settings.model_dump() | values))


def test_auth_config_says_what_the_sign_in_page_may_offer(client: TestClient, settings: Settings) -> None:
    assert client.get("/api/auth/config").json() == {
        "signup": "open",
        "passwordReset": False,
        "sso": False,
        "github": False,
    }
    configured = _settings(settings, signup="invite-only", smtp_url="smtp://127.0.0.1:25", public_url=PUBLIC_URL)
    with TestClient(create_app(configured)) as other:
        assert other.get("/api/auth/config").json() == {
            "signup": "invite-only",
            "passwordReset": True,
            "sso": False,
            "github": False,
        }


def test_invite_only_refuses_registration_and_keeps_invitations(settings: Settings, database: Database) -> None:
    closed = _settings(settings, signup="invite-only", **INIT)
    first_start.initialize(database, closed)
    with TestClient(create_app(closed), raise_server_exceptions=False) as client:
        body = {"name": "N", "email": "n@example.com", "password": "a long password 1", "orgName": "N", "orgSlug": "n"}
        refused = client.post("/api/auth/register", json=body)
        assert refused.status_code == 403 and refused.json()["code"] == "signup_disabled"
        owner = login(client, INIT["init_user_email"], INIT["init_user_password"])
        joined = accept(client, link_token(invite(client, owner, email="n@example.com")["inviteLink"]))
        assert joined.status_code == 201, joined.text


@pytest.mark.both_databases
def test_the_first_start_creates_the_org_its_owner_and_the_key_once(settings: Settings, database: Database) -> None:
    init = _settings(settings, init_api_key=INIT_KEY, **INIT)
    assert first_start.initialize(database, init) == first_start.Outcome(True, True, True)
    # Again, even with another password: nothing changes, the first password stays.
    again = _settings(settings, init_api_key=INIT_KEY, **(INIT | {"init_user_password": "another long password"}))
    assert first_start.initialize(database, again) == first_start.Outcome(False, False, False)

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        owner = login(client, INIT["init_user_email"], INIT["init_user_password"])
        assert owner.user["role"] == "OWNER" and owner.org["slug"] == "acme-robotics"
        me = client.get("/api/auth/me", headers=bearer(INIT_KEY)).json()
        assert me["id"] == owner.user_id and me["apiKey"]["name"] == "PROVENANT_INIT_API_KEY"
        [key] = client.get("/api/org/keys", headers=owner.headers).json()
        assert key["access"] == "full" and key["keyPrefix"] == "01234567"
        actions = [entry["action"] for entry in client.get("/api/audit", headers=owner.headers).json()]
        assert actions.count("auth.register") == 1 and actions.count("apikey.create") == 1
    assert INIT_KEY.encode() not in persisted_bytes(database)


def test_a_key_added_to_the_settings_later_is_created_for_the_existing_owner(
    settings: Settings, database: Database
) -> None:
    first_start.initialize(database, _settings(settings, **INIT))
    assert first_start.initialize(database, _settings(settings, init_api_key=INIT_KEY, **INIT)) == (
        first_start.Outcome(False, False, True)
    )


def test_an_org_or_account_that_exists_otherwise_is_left_alone(settings: Settings, database: Database) -> None:
    first_start.initialize(database, _settings(settings, **INIT))
    elsewhere = INIT | {"init_org_slug": "another-org"}
    nothing = first_start.Outcome(False, False, False)
    assert first_start.initialize(database, _settings(settings, **elsewhere)) == nothing


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"init_api_key": "pk_live_ABC"}, "is not a Provenant API key"),
        ({"init_api_key": INIT_KEY}, "missing: PROVENANT_INIT_ORG_NAME"),
        (INIT | {"init_user_email": None}, "missing: PROVENANT_INIT_USER_EMAIL"),
    ],
)
def test_unusable_init_settings_are_refused_by_name(tmp_path: Path, values: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Settings(data_dir=tmp_path, **values)


def test_a_common_password_is_refused_at_the_first_start(settings: Settings, database: Database) -> None:
    with pytest.raises(first_start.InitRefused, match="PROVENANT_INIT_USER_PASSWORD"):
        first_start.initialize(database, _settings(settings, **(INIT | {"init_user_password": "password1"})))


def test_provenant_serve_applies_the_first_start(tmp_path: Path, database_url: str) -> None:
    env = {f"PROVENANT_{name.upper()}": str(value) for name, value in INIT.items()} | {
        "PROVENANT_INIT_API_KEY": INIT_KEY
    }
    with serve(tmp_path, database_url, env=env) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/api/auth/me", headers=bearer(INIT_KEY)).json()["role"] == "OWNER"
        login(client, INIT["init_user_email"], INIT["init_user_password"])
