"""Property tests: the API-key parser, the role table and the request guard, alone and through the API."""

import json
import string
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from provenant.auth.roles import Role, can_change_role, can_grant, can_remove
from provenant.auth.security import generate_api_key, is_well_formed_api_key
from provenant.db import Database
from provenant.errors import InvalidJson, ValidationFailed
from provenant.request_guard import LONE_SURROGATE, MESSAGE, refusal_of_body
from tests.factories import add_member, create_agent, key_headers, register

HEX = "0123456789abcdef"
ROLES = list(Role)
RANK = {Role.OWNER: 3, Role.ADMIN: 2, Role.MEMBER: 1, Role.VIEWER: 0}


@given(st.text())
def test_a_key_is_well_formed_exactly_when_it_is_the_prefix_and_32_lowercase_hex(token: str) -> None:
    expected = token.startswith("pk_live_") and len(token) == 40 and all(c in HEX for c in token[8:])
    assert is_well_formed_api_key(token) is expected


@given(st.text(alphabet=HEX, min_size=32, max_size=32), st.sampled_from(["", " ", "\n", "0", "A", "é", "\x00"]))
def test_anything_around_a_well_formed_key_makes_it_malformed(body: str, extra: str) -> None:
    key = "pk_live_" + body
    assert is_well_formed_api_key(key)
    if extra:
        assert not is_well_formed_api_key(key + extra)
        assert not is_well_formed_api_key(extra + key)
        assert not is_well_formed_api_key(key.upper())


@given(st.integers(min_value=0, max_value=31), st.sampled_from(string.ascii_uppercase + "gz_-"))
def test_one_wrong_character_makes_a_key_malformed(position: int, wrong: str) -> None:
    key = generate_api_key()
    assert is_well_formed_api_key(key)
    broken = key[: 8 + position] + wrong + key[9 + position :]
    assert not is_well_formed_api_key(broken)


@given(st.sampled_from(ROLES), st.sampled_from(ROLES))
def test_nobody_grants_a_role_above_their_own_or_ownership(role: Role, granted: Role) -> None:
    if can_grant(role, granted):
        assert RANK[granted] <= RANK[role] and granted is not Role.OWNER


@given(st.sampled_from(ROLES), st.sampled_from(ROLES), st.sampled_from(ROLES))
def test_an_admin_never_changes_an_owner_or_an_admin_nor_makes_one(role: Role, current: Role, new: Role) -> None:
    if can_change_role(role, current=current, new=new):
        assert role is Role.OWNER or {current, new} <= {Role.MEMBER, Role.VIEWER}
        assert RANK[new] <= RANK[role]
    if role in (Role.MEMBER, Role.VIEWER):
        assert not can_change_role(role, current=current, new=new)
        assert not can_remove(role, target=current)
    if can_remove(role, target=current):
        assert role is Role.OWNER or current in (Role.MEMBER, Role.VIEWER)


# --- through the API: sequences of role changes ----------------------------------------------------

changes = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from([r.value for r in ROLES])), min_size=1, max_size=8
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=changes)
def test_role_changes_through_the_api_keep_the_table_and_an_owner(
    client: TestClient, database: Database, steps: list[tuple[int, int, str]]
) -> None:
    owner = register(client)
    people = [owner, *(add_member(client, database, owner, role) for role in ("ADMIN", "MEMBER", "VIEWER"))]

    def roles() -> dict[str, Role]:
        members = client.get("/api/org/members", headers=owner.headers)
        if members.status_code != 200:  # the first owner may have been demoted: any member can read
            members = client.get("/api/org/members", headers=people[3].headers)
        return {m["id"]: Role(m["role"]) for m in members.json()}

    for actor_index, target_index, new_role in steps:
        actor, target = people[actor_index], people[target_index]
        before = roles()
        response = client.patch(
            f"/api/org/members/{target.user_id}/role", json={"role": new_role}, headers=actor.headers
        )
        after = roles()
        assert response.status_code < 500, response.text
        acting, current, new = before[actor.user_id], before[target.user_id], Role(new_role)
        if response.status_code == 200:
            assert can_change_role(acting, current=current, new=new)
            assert after[target.user_id] is new
        else:
            assert after == before  # a refusal changes nothing
        if acting is Role.ADMIN and current in (Role.OWNER, Role.ADMIN):
            assert response.status_code == 403
        if acting in (Role.MEMBER, Role.VIEWER):
            assert response.status_code == 403
        assert Role.OWNER in after.values(), "the organization lost its last OWNER"


# --- the request guard: hostile text in any JSON --------------------------------------------------

# Pieces that spell escapes and break them: backslashes, the text of \\ud83d and \\udc00 (a backslash and five
# letters), quotes, a NUL, and both halves of a surrogate pair (adjacent halves are one character once read back).
_TRICKY = st.sampled_from(
    [
        "\\",
        "\\ud83d",
        "\\udc00",
        "\\uD800",
        "u",
        "d8",
        '"',
        "a",
        "é",
        "\x00",
        "\ud83d",
        "\udbff",
        "\udc00",
        "\udfff",
        "\U0001f600",
    ]
)
_text = st.lists(_TRICKY, max_size=8).map("".join)
documents = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=12,
)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (key, *_texts(item))]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def expected_rule(body: bytes) -> str | None:
    """What the guard must refuse ``body`` (ASCII JSON) for, told from the document the parser reads back."""
    texts = _texts(json.loads(body))
    if any("\x00" in text for text in texts):
        return MESSAGE
    if any("\ud800" <= char <= "\udfff" for text in texts for char in text):
        return LONE_SURROGATE  # pairs were joined by the parser: any surrogate left is a lone one
    return None


def _rule(refusal: InvalidJson | ValidationFailed | None) -> str | None:
    if refusal is None:
        return None
    assert isinstance(refusal, ValidationFailed), refusal.message
    return str(refusal.details[0]["message"])


@settings(max_examples=150, deadline=None)
@given(documents)
@example("\ud83d\\\udc00")  # two halves with a backslash between: both lone (a byte-level pairing missed it)
@example({"\\ud83d\udc00": ["\ud83d\udc00"]})  # the text \ud83d before a low half; a real pair
def test_the_guard_refuses_a_body_exactly_when_its_parsed_text_holds_a_nul_or_a_lone_surrogate(document: Any) -> None:
    body = json.dumps(document).encode()  # every non-ASCII character escaped, as Python and JS SDKs send
    assert _rule(refusal_of_body(body)) == expected_rule(body)


@settings(max_examples=80, deadline=None)
@given(documents, st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]))
def test_any_body_in_utf16_or_utf32_is_invalid_json(document: Any, encoding: str) -> None:
    body = json.dumps(document).encode(encoding)
    assert isinstance(refusal_of_body(body), InvalidJson)


@settings(max_examples=80, deadline=None)
@given(documents)
def test_a_body_with_unescaped_text_is_refused_unless_it_is_utf8_without_nul_or_surrogate(document: Any) -> None:
    body = json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")
    texts = _texts(document)
    if any("\ud800" <= char <= "\udfff" for text in texts for char in text):
        assert isinstance(refusal_of_body(body), InvalidJson)  # encoded surrogates are not UTF-8
    else:
        assert _rule(refusal_of_body(body)) == expected_rule(json.dumps(document).encode())


@pytest.mark.both_databases
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=documents, metadata=documents, ascii_only=st.booleans())
def test_any_turn_is_stored_as_read_or_refused_with_a_4xx(
    client: TestClient, content: Any, metadata: Any, ascii_only: bool
) -> None:
    """Never a 500 (a lone surrogate was one on both databases), and what is stored is what was sent."""
    owner = register(client)
    headers = key_headers(client, owner)
    session = client.post("/api/sessions", json={"agentId": create_agent(client, headers)["id"]}, headers=headers)
    url = f"/api/sessions/{session.json()['id']}"
    turn = {"role": "TOOL", "content": content, "metadata": metadata if isinstance(metadata, dict) else {"m": metadata}}
    body = json.dumps(turn, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    response = client.post(f"{url}/turns", content=body, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code in (201, 400, 422), response.text
    stored = client.get(url, headers=headers).json()["turns"]
    if response.status_code == 201:
        sent = json.loads(body.decode())
        assert [(t["content"], t["metadata"]) for t in stored] == [(sent["content"], sent["metadata"])]
    else:
        assert stored == []
