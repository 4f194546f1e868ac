"""Property tests: the API-key parser and the role table, alone and through the API."""

import string

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenant.auth.roles import Role, can_change_role, can_grant, can_remove
from provenant.auth.security import generate_api_key, is_well_formed_api_key
from provenant.db import Database
from tests.factories import add_member, register

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
