"""Each error status of the real server becomes its exception, with the server's code and sentence."""

import uuid

import pytest

from provenant_sdk import (
    APIStatusError,
    AuthenticationError,
    ConflictError,
    HttpError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    ProvenantClient,
    RateLimitError,
    UnprocessableEntityError,
)

from accounts import Account, new_account, viewer_key
from servers import FlakyProxy


def test_401_unknown_key(account: Account) -> None:
    with (
        ProvenantClient(base_url=account.base_url, api_key="pk_live_" + "ab" * 16) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.list_agents()
    error = caught.value
    assert error.status_code == 401
    assert error.code == "invalid_api_key"
    assert error.message and error.message in str(error)
    assert error.headers["www-authenticate"].startswith("Bearer")


def test_401_malformed_key(account: Account) -> None:
    with (
        ProvenantClient(base_url=account.base_url, api_key="not-a-provenant-key") as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.me()
    assert caught.value.status_code == 401


def test_403_a_viewer_cannot_create(account: Account) -> None:
    with ProvenantClient(base_url=account.base_url, api_key=viewer_key(account)) as viewer:
        assert viewer.me()["role"] == "VIEWER"
        assert viewer.list_agents() == []
        with pytest.raises(PermissionDeniedError) as caught:
            viewer.create_agent("Nope", "nope")
    assert caught.value.status_code == 403
    assert caught.value.code == "forbidden"


def test_404_unknown_agent(client: ProvenantClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.get_agent(str(uuid.uuid4()))
    assert caught.value.status_code == 404
    assert isinstance(caught.value.code, str)


def test_404_another_organizations_agent(client: ProvenantClient, server_url: str) -> None:
    other = new_account(server_url)
    with ProvenantClient(base_url=other.base_url, api_key=other.api_key) as theirs:
        their_agent = theirs.create_agent("Theirs", "theirs")
    with pytest.raises(NotFoundError):
        client.get_agent(their_agent["id"])


def test_404_revoking_an_unknown_key(client: ProvenantClient) -> None:
    with pytest.raises(NotFoundError):
        client.revoke_api_key(str(uuid.uuid4()))


def test_409_duplicate_slug(client: ProvenantClient) -> None:
    client.create_agent("First", "same-slug")
    with pytest.raises(ConflictError) as caught:
        client.create_agent("Second", "same-slug")
    assert caught.value.status_code == 409
    assert isinstance(caught.value.code, str)


def test_422_is_an_unprocessable_entity_error_with_details(client: ProvenantClient) -> None:
    with pytest.raises(UnprocessableEntityError) as caught:
        client.create_api_key("expired already", expires_at="2001-01-01T00:00:00Z")
    error = caught.value
    assert isinstance(error, APIStatusError)
    assert error.status_code == 422
    assert error.code == "validation_error"
    assert error.details
    assert {"field", "message"} <= set(error.details[0])


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, APIStatusError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (410, APIStatusError),
        (413, APIStatusError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
    ],
)
def test_each_status_has_its_class(
    status: int, expected: type[APIStatusError], proxy: FlakyProxy, account: Account
) -> None:
    proxy.script = [f"status:{status}"]
    with (
        ProvenantClient(base_url=proxy.url, api_key=account.api_key, max_retries=0) as client,
        pytest.raises(APIStatusError) as caught,
    ):
        client.me()
    assert type(caught.value) is expected
    assert isinstance(caught.value, HttpError)  # the TypeScript SDK's name for the same class
    assert (caught.value.status_code, caught.value.code) == (status, "scripted")
    assert caught.value.message == "Scripted failure."
