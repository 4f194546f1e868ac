from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenant_sdk import ProvenantClient

from accounts import Account, new_account
from servers import FlakyProxy, provenant_server


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("provenant-data")
    with provenant_server(data_dir, secrets.token_hex(32)) as url:
        yield url


@pytest.fixture
def account(server_url: str) -> Account:
    """A fresh organization, its OWNER and an API key of theirs: no state shared between tests."""
    return new_account(server_url)


@pytest.fixture
def client(account: Account) -> Iterator[ProvenantClient]:
    with ProvenantClient(base_url=account.base_url, api_key=account.api_key) as client:
        yield client


@pytest.fixture
def proxy(server_url: str) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(server_url).start()
    yield proxy
    proxy.stop()


@pytest.fixture(autouse=True)
def _no_provenant_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests say explicitly which environment variables they rely on."""
    monkeypatch.delenv("PROVENANT_URL", raising=False)
    monkeypatch.delenv("PROVENANT_API_KEY", raising=False)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
