"""Property tests of the public behaviour of bearer tokens: any token string answers 401, never a 5xx.

Only the wire behaviour: the JWT code itself is another file's business.
"""

import base64
import json

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import register

# What an HTTP header value can carry: visible Latin-1, spaces and tabs (no CR/LF).
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"))
segment = st.binary(max_size=80).map(lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode())
claim_value = st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=8), st.none())
claim_name = st.sampled_from(["alg", "typ", "sub", "exp", "iat", "jti", "x"])
json_segment = st.dictionaries(claim_name, claim_value, max_size=5)
jwt_shaped = st.one_of(
    st.tuples(segment, segment, segment).map(".".join),
    st.tuples(json_segment, json_segment, segment).map(
        lambda parts: ".".join(
            [*(base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=").decode() for p in parts[:2]), parts[2]]
        )
    ),
)
examples = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_refused(client: TestClient, token: str) -> None:
    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}".encode("latin-1")})
    # 429 once this client's failed key attempts pass their limit: still a refusal, never a crash.
    assert response.status_code in (401, 429), (token, response.status_code, response.text)
    body = response.json()
    assert set(body) >= {"error", "code"}
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == "Bearer"


@examples
@given(token=st.one_of(header_text, jwt_shaped, header_text.map(lambda t: "pk_live_" + t)))
def test_any_token_string_is_refused_with_401(client: TestClient, token: str) -> None:
    assert_refused(client, token.strip() or "x")


@examples
@given(position=st.integers(min_value=0), replacement=st.sampled_from("AZaz09-_.="))
def test_a_real_jwt_with_one_character_changed_is_refused(client: TestClient, position: int, replacement: str) -> None:
    token = register(client).token
    index = position % len(token)
    if token[index] == replacement:
        return
    assert_refused(client, token[:index] + replacement + token[index + 1 :])
