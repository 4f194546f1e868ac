from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenant.config import Settings
from tests.factories import Account, Client
from tests.oidc_issuer import AUDIENCE, REPOSITORY, Issuer, running_issuer


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The app of these tests may fetch from the stand-in issuer on loopback, and from nowhere else private."""
    return Settings(data_dir=tmp_path / "data", database_url=database_url, allowed_issuer_hosts=["127.0.0.1"])


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running_issuer("RS256", "ES256") as running:
        yield running


def create_policy(client: Client, account: Account, issuer_url: str, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "evaluations",
        "issuer": issuer_url,
        "audience": AUDIENCE,
        "claims": {"repository": REPOSITORY, "ref": "refs/heads/main"},
        "access": "ingest",
    } | fields
    response = client.post("/api/org/trust-policies", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def exchange(client: Client, token: str) -> Any:
    return client.post("/api/auth/token-exchange", json={"idToken": token})
