"""Python client for the Provenant API.

    from provenant_sdk import ProvenantClient

    with ProvenantClient() as client:          # PROVENANT_URL, PROVENANT_API_KEY
        agent = client.agents.get_or_create("Support bot")
        with client.session(agent["id"]) as session:
            session.log_turn("USER", "Hello")  # returns at once; a thread sends it

Response shapes are in `provenant_sdk.types`; the exception tree is documented in `provenant_sdk._errors`.
"""

from provenant_sdk._client import AsyncProvenantClient, ProvenantClient
from provenant_sdk._errors import (
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
from provenant_sdk._paging import AsyncPagedList, PagedList
from provenant_sdk._session import LiveSession
from provenant_sdk._version import __version__

__all__ = [
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

# Public classes say they come from the package, not from a private module.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj
