"""Python client for the Provenant API.

    from provenant_sdk import ProvenantClient

    with ProvenantClient() as client:          # PROVENANT_URL, PROVENANT_API_KEY
        agent_id = client.get_or_create_agent("Support bot")
        with client.session(agent_id) as session:
            client.add_turn(session["id"], "USER", "Hello")

Response shapes are in `provenant_sdk.types`; the exception tree is documented in `provenant_sdk._errors`.
"""

from provenant_sdk._client import AsyncProvenantClient, ProvenantClient
from provenant_sdk._errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ProvenantError,
    RateLimitError,
)
from provenant_sdk._version import __version__

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "AsyncProvenantClient",
    "AuthenticationError",
    "ConflictError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProvenantClient",
    "ProvenantError",
    "RateLimitError",
    "__version__",
]

# Exceptions say they come from the package, not from a private module.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj
