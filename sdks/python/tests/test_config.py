"""Where the client finds its URL and key: arguments first, then PROVENANT_URL and PROVENANT_API_KEY."""

import re
from pathlib import Path

import pytest

from provenant_sdk import AuthenticationError, ProvenantClient, ProvenantError

from accounts import Account

USER_DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "authentication-and-api-keys.md"
"""The product's user document, shipped in this repository."""


def test_the_user_documents_python_example_runs_verbatim(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", USER_DOCUMENT.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1
    monkeypatch.setenv("PROVENANT_URL", account.base_url)
    monkeypatch.setenv("PROVENANT_API_KEY", account.api_key)
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "authentication-and-api-keys.md", "exec"), namespace)
    client = namespace["client"]
    assert isinstance(client, ProvenantClient)
    with client:
        me = client.me()
    assert me["email"] == account.email
    assert me["authMethod"] == "api_key"


def test_url_and_key_come_from_the_environment(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVENANT_URL", account.base_url)
    monkeypatch.setenv("PROVENANT_API_KEY", account.api_key)
    with ProvenantClient() as client:
        assert client.me()["orgId"] == account.org_id


def test_arguments_win_over_the_environment(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVENANT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PROVENANT_API_KEY", "pk_live_" + "0" * 32)
    with ProvenantClient(base_url=account.base_url + "/", api_key=account.api_key) as client:
        assert client.me()["orgId"] == account.org_id


def test_a_key_from_the_environment_is_really_sent(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVENANT_URL", account.base_url)
    monkeypatch.setenv("PROVENANT_API_KEY", "pk_live_" + "0" * 32)
    with ProvenantClient() as client, pytest.raises(AuthenticationError):
        client.me()


def test_no_key_anywhere_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVENANT_URL", "http://127.0.0.1:9")
    with pytest.raises(ProvenantError, match="PROVENANT_API_KEY") as caught:
        ProvenantClient()
    assert caught.value.code == "missing_api_key"
    assert caught.value.status_code is None


def test_no_url_anywhere_is_a_clear_error() -> None:
    with pytest.raises(ProvenantError, match="PROVENANT_URL") as caught:
        ProvenantClient(api_key="pk_live_" + "0" * 32)
    assert caught.value.code == "missing_base_url"


def test_a_url_without_scheme_is_a_clear_error() -> None:
    with pytest.raises(ProvenantError, match="http:// or https://") as caught:
        ProvenantClient(base_url="localhost:4000", api_key="pk_live_" + "0" * 32)
    assert caught.value.code == "invalid_base_url"


def test_an_empty_environment_variable_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVENANT_API_KEY", "")
    with pytest.raises(ProvenantError) as caught:
        ProvenantClient(base_url="http://127.0.0.1:9")
    assert caught.value.code == "missing_api_key"


def test_a_key_that_cannot_go_in_a_header_is_refused_without_quoting_it() -> None:
    key = "pk_live_0123\n456789abcdef0123456789abcdef"
    with pytest.raises(ProvenantError) as caught:
        ProvenantClient(base_url="http://127.0.0.1:9", api_key=key)
    assert caught.value.code == "malformed_api_key"
    assert "0123" not in str(caught.value)
