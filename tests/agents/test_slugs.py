"""The one slug rule (agents.slugs): what a name becomes, and that the server applies it to every way in."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from provenant.agents.slugs import slugify
from provenant.schemas import SLUG_PATTERN
from tests.factories import Account, register


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Support Bot (EU)", "support-bot-eu"),
        ("Straße Bot", "strasse-bot"),
        ("STRASSE bot", "strasse-bot"),
        ("Café Crème", "cafe-creme"),
        ("Ærø Łódź Þór", "aero-lodz-thor"),
        ("  spaces   and\ttabs ", "spaces-and-tabs"),
        ("Support Bot 🤖", "support-bot"),
        ("naïve — “quoted” bot!", "naive-quoted-bot"),
        ("Ｆｕｌｌ ｗｉｄｔｈ", "full-width"),  # noqa: RUF001 - full-width letters on purpose
    ],
)
def test_a_name_is_spelled_in_ascii(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_letters_without_an_ascii_spelling_keep_names_apart() -> None:
    assert re.fullmatch(r"2-[0-9a-f]{8}", slugify("Бот 2"))
    assert slugify("Бот 2") != slugify("Агент 2")
    assert slugify("Бот 2") == slugify("  бот 2! ")  # case, spacing and punctuation still do not count
    assert re.fullmatch(r"agent-[0-9a-f]{8}", slugify("日本語"))


@pytest.mark.parametrize("name", ["🤖", "!!!", "—", "_"])
def test_a_name_without_a_letter_or_digit_has_no_slug(name: str) -> None:
    assert slugify(name) == ""


@pytest.mark.parametrize("name", ["x" * 200, "Straße " * 30, "Бот " * 50, "a" * 63 + "-b", "ß" * 40])
def test_every_slug_fits_the_contracts_pattern(name: str) -> None:
    assert re.fullmatch(SLUG_PATTERN, slugify(name))


# --- through the API ----------------------------------------------------------------------------

NAMES = ["Straße Bot", "Ærø Łódź", "Бот 2", "日本語 アシスタント", "Support Bot 🤖", "Q&A: billing / refunds?"]


@pytest.fixture
def owner(client: TestClient) -> Account:
    return register(client)


def create(client: TestClient, owner: Account, **body: Any) -> Any:
    return client.post("/api/agents", json=body, headers=owner.headers)


def get_or_create(client: TestClient, owner: Account, name: str) -> Any:
    return client.post("/api/agents/get-or-create", json={"name": name}, headers=owner.headers)


@pytest.mark.parametrize("name", NAMES)
def test_an_agent_created_without_a_slug_is_the_one_get_or_create_finds(
    client: TestClient, owner: Account, name: str
) -> None:
    created = create(client, owner, name=name)
    assert created.status_code == 201, created.text
    assert created.json()["slug"] == slugify(name)
    found = get_or_create(client, owner, name)
    assert found.status_code == 200
    assert found.json()["id"] == created.json()["id"]


@pytest.mark.parametrize("name", NAMES)
def test_an_agent_get_or_create_made_is_the_one_new_agent_collides_with(
    client: TestClient, owner: Account, name: str
) -> None:
    made = get_or_create(client, owner, name).json()
    again = create(client, owner, name=name, slug=None)
    assert again.status_code == 409
    assert again.json()["code"] == "slug_taken"
    assert made["slug"] in again.json()["error"]


def test_creating_with_a_name_without_a_slug_of_its_own_is_a_422_naming_name(
    client: TestClient, owner: Account
) -> None:
    response = create(client, owner, name="🤖")
    assert response.status_code == 422
    assert [detail["field"] for detail in response.json()["details"]] == ["name"]


def test_a_slug_given_is_kept(client: TestClient, owner: Account) -> None:
    assert create(client, owner, name="Straße Bot", slug="my-bot").json()["slug"] == "my-bot"


def test_get_or_create_finds_what_the_earlier_rule_made_from_the_same_name(client: TestClient, owner: Account) -> None:
    earlier = create(client, owner, name="Straße Bot", slug="strae-bot").json()  # what it derived then
    found = get_or_create(client, owner, "Straße Bot")
    assert found.status_code == 200
    assert found.json()["id"] == earlier["id"]


def test_the_earlier_rule_never_hands_over_another_names_agent(client: TestClient, owner: Account) -> None:
    theirs = create(client, owner, name="Агент 2", slug="2").json()  # the earlier rule gave "Бот 2" this slug too
    mine = get_or_create(client, owner, "Бот 2")
    assert mine.status_code == 201
    assert mine.json()["id"] != theirs["id"]
