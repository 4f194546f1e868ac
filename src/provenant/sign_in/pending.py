"""A sign-in in progress, kept in the browser that started it: ``state``, ``nonce`` and the PKCE verifier,
sealed (AES-GCM under the deployment's key, bound to its purpose) into a short-lived cookie.

The cookie is HttpOnly (no script reads it), SameSite=Lax (a provider's redirect back, a top-level GET, carries
it; a request another site's page makes does not) and scoped to the callback's path. The callback compares
the ``state`` it is given with the cookie's: a callback URL lured into another browser, or made up, finds no
cookie or another state, and signs nobody in. Nothing is stored on the server until the sign-in succeeds.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass

from provenant.auth.encryption import DecryptionFailed, EncryptionKey, decrypt, encrypt

LIFETIME_SECONDS = 600  # long enough to type a password and a second factor at the provider


@dataclass(frozen=True, slots=True)
class Pending:
    state: str
    nonce: str
    verifier: str
    started_at: float
    # Single sign-on: the org whose provider was asked, and its issuer then (a changed configuration ends it).
    org_id: str | None = None
    issuer: str | None = None

    @classmethod
    def new(cls, *, org_id: str | None = None, issuer: str | None = None) -> "Pending":
        return cls(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(48),
            started_at=time.time(),
            org_id=org_id,
            issuer=issuer,
        )

    @property
    def code_challenge(self) -> str:
        """PKCE S256 (RFC 7636 4.2): base64url of the verifier's SHA-256, unpadded."""
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def seal(key: EncryptionKey, pending: Pending, *, purpose: str) -> str:
    return encrypt(key, json.dumps(asdict(pending)), purpose=purpose)


def unseal(key: EncryptionKey, cookie: str | None, *, state: str | None, purpose: str) -> Pending | None:
    """The sign-in the cookie holds when ``state`` is its own and it is recent; None otherwise."""
    if not cookie or not state or len(cookie) > 4096:
        return None
    try:
        pending = Pending(**json.loads(decrypt(key, cookie, purpose=purpose)))
    except (DecryptionFailed, ValueError, TypeError):
        return None
    if not hmac.compare_digest(pending.state.encode(), state.encode("utf-8", "replace")):
        return None
    if not 0 <= time.time() - pending.started_at <= LIFETIME_SECONDS:
        return None
    return pending
