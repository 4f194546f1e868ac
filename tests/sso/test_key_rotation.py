"""Key rotation at the certified OpenID Provider: the server keeps the provider's keys, and follows a new key
(an unknown kid) by fetching them again, at most once a minute. The app runs in this process so that the
clock can move a minute on (time_machine); the provider is the real one, over real HTTP, and the browser's
dance is the same as end to end (its requests to the app go through the test client's transport).
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient

from provenant.config import Settings
from tests.factories import register, unique
from tests.sso.openid_provider import CALLBACK_PATH, running_provider, sign_in
from tests.sso.test_e2e_oidc import completed, configure_sso, signed_in

APP = "http://testserver"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, allowed_issuer_hosts=["127.0.0.1"])


def test_a_new_signing_key_at_the_provider_is_fetched_for_its_unknown_kid_at_most_once_a_minute(
    client: TestClient, tmp_path: Path
) -> None:
    with (
        running_provider(tmp_path / "provider", [APP + CALLBACK_PATH]) as provider,
        # The browser reaches the app through the test client's own transport, and the provider over the network.
        httpx.Client(mounts={APP: client._transport}, timeout=30) as browser,
    ):
        owner = register(client)
        domain = f"{unique('acme')}.example.com"
        configure_sso(client, provider, owner, domain)
        email = f"annie.easley@{domain}"
        start = datetime.now(UTC)
        first = signed_in(client, sign_in(browser, APP, email))
        fetched = provider.fetches("/jwks")
        assert fetched >= 1

        provider.rotate_keys()
        # Fetched less than a minute ago: not again, so a flood of made-up kids costs the provider nothing.
        assert completed(sign_in(browser, APP, email)) == {"error": "invalid_id_token"}
        assert provider.fetches("/jwks") == fetched

        with time_machine.travel(start + timedelta(seconds=61), tick=True):
            again = signed_in(client, sign_in(browser, APP, email))
            assert again["user"]["id"] == first["user"]["id"]
            assert provider.fetches("/jwks") == fetched + 1
            assert signed_in(client, sign_in(browser, APP, email))["user"]["id"] == first["user"]["id"]
            assert provider.fetches("/jwks") == fetched + 1  # the new key is kept
