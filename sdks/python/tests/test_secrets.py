"""The API key never shows: not in a repr, an exception, a traceback, or a log line."""

import logging
import traceback

import pytest

from provenant_sdk import (
    APIConnectionError,
    AsyncProvenantClient,
    AuthenticationError,
    ProvenantClient,
    ProvenantError,
)

from accounts import Account
from servers import FlakyProxy, free_port


def _everything_said_about(error: BaseException) -> str:
    return str(error) + repr(error) + "".join(traceback.format_exception(error))


def test_not_in_the_repr_of_a_client(account: Account) -> None:
    with ProvenantClient(base_url=account.base_url, api_key=account.api_key) as client:
        assert account.api_key not in repr(client)
        assert account.api_key not in str(client)
    async_client = AsyncProvenantClient(base_url=account.base_url, api_key=account.api_key)
    assert account.api_key not in repr(async_client)


def test_not_in_an_authentication_error(account: Account) -> None:
    with ProvenantClient(base_url=account.base_url, api_key=account.api_key) as client:
        client.revoke_api_key(client.me()["apiKey"]["id"])
        with pytest.raises(AuthenticationError) as caught:
            client.me()
    assert caught.value.code == "api_key_revoked"
    assert account.api_key not in _everything_said_about(caught.value)
    assert account.api_key[len("pk_live_") :] not in _everything_said_about(caught.value)


def test_not_in_a_connection_error(account: Account) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with (
        ProvenantClient(base_url=url, api_key=account.api_key, max_retries=0) as client,
        pytest.raises(APIConnectionError) as caught,
    ):
        client.me()
    assert caught.value.__cause__ is None and caught.value.__context__ is None  # no httpx request attached
    assert account.api_key not in _everything_said_about(caught.value)


def test_not_in_a_configuration_error() -> None:
    key = "pk_live_" + "c" * 32
    with pytest.raises(ProvenantError) as caught:
        ProvenantClient(api_key=key)
    assert key not in _everything_said_about(caught.value)


def test_not_in_the_logs(proxy: FlakyProxy, account: Account, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    proxy.script = ["503", "drop"]
    with ProvenantClient(base_url=proxy.url, api_key=account.api_key) as client:
        key_id = client.me()["apiKey"]["id"]
        client.revoke_api_key(key_id)
        with pytest.raises(AuthenticationError):
            client.me()
    loggers = {record.name for record in caplog.records}
    assert {"httpx", "provenant_sdk"} <= loggers, loggers  # the logs this test reads were written
    assert any(name.startswith("httpcore") for name in loggers), loggers
    assert "Retrying GET /api/auth/me" in caplog.text
    assert account.api_key not in caplog.text
    assert account.api_key[len("pk_live_") :] not in caplog.text
