from importlib.resources import files

import provenant_sdk
from provenant_sdk import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    HttpError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    ProvenantError,
    RateLimitError,
    UnprocessableEntityError,
)


def test_all_is_pinned() -> None:
    assert provenant_sdk.__all__ == [
        "APIConnectionError",
        "APIStatusError",
        "APITimeoutError",
        "AsyncPagedList",
        "AsyncProvenantClient",
        "AuthenticationError",
        "ConflictError",
        "HttpError",
        "InternalServerError",
        "LiveSession",
        "NotFoundError",
        "PagedList",
        "PermissionDeniedError",
        "ProvenantClient",
        "ProvenantError",
        "RateLimitError",
        "UnprocessableEntityError",
        "__version__",
    ]
    for name in provenant_sdk.__all__:
        assert hasattr(provenant_sdk, name)


def test_public_classes_belong_to_the_package() -> None:
    assert provenant_sdk.ProvenantClient.__module__ == "provenant_sdk"
    assert repr(NotFoundError) == "<class 'provenant_sdk.NotFoundError'>"


def test_error_tree() -> None:
    for status_error in (
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        UnprocessableEntityError,
        RateLimitError,
        InternalServerError,
    ):
        assert issubclass(status_error, APIStatusError)
    assert issubclass(APIStatusError, ProvenantError)
    assert issubclass(APIConnectionError, ProvenantError)
    assert issubclass(APITimeoutError, APIConnectionError)
    assert not issubclass(APIConnectionError, APIStatusError)
    assert HttpError is APIStatusError  # the TypeScript SDK's name, kept as an alias


def test_ships_py_typed() -> None:
    assert files("provenant_sdk").joinpath("py.typed").is_file()
