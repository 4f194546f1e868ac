"""docs/secret-scanning: the gitleaks rule and the GitHub custom pattern find Provenant keys and nothing
that only looks like one (Stripe's publishable keys share the pk_live_ prefix).

The gitleaks binary cannot be installed here (Debian 12 has no package; the npm and PyPI wrappers
download it from GitHub at install time), so the rule's regex is run with Python's re. It is written in
the subset that Go's RE2, Hyperscan and Python read alike (no look-around, no possessives); the one
spelling that differs, Hyperscan's and RE2's \\z, is Python's \\Z.
"""

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from provenant.auth import security

FOLDER = Path(__file__).resolve().parents[2] / "docs" / "secret-scanning"


def _gitleaks_rule() -> tuple[re.Pattern[str], int]:
    config = tomllib.loads((FOLDER / "gitleaks.toml").read_text())
    assert config["extend"] == {"useDefault": True}  # gitleaks' own rules still apply
    (rule,) = [rule for rule in config["rules"] if rule["id"] == "provenant-api-key"]
    assert rule["keywords"] == ["pk_live_"]
    return re.compile(rule["regex"]), rule["secretGroup"]


def _github_pattern() -> re.Pattern[str]:
    pattern = tomllib.loads((FOLDER / "github-custom-pattern.toml").read_text())
    fields = ("before_secret", "secret_format", "after_secret")
    before, secret, after = (pattern[field].replace(r"\z", r"\Z") for field in fields)
    return re.compile(f"(?:{before})({secret})(?:{after})")


def gitleaks_finds(text: str) -> list[str]:
    regex, group = _gitleaks_rule()
    return [match.group(group) for match in _overlapping(regex, text)]


def github_finds(text: str) -> list[str]:
    return [match.group(1) for match in _overlapping(_github_pattern(), text)]


def _overlapping(regex: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """Every match, where the boundary after one key may be the boundary before the next (the scanners
    report both of `key1,key2`)."""
    found, position = [], 0
    while (match := regex.search(text, position)) is not None:
        found.append(match)
        position = match.start(1) + 1
    return found


Finder = Callable[[str], list[str]]
FINDERS = [pytest.param(gitleaks_finds, id="gitleaks"), pytest.param(github_finds, id="github")]


def _sample() -> tuple[str, list[str]]:
    """Text with real-format keys where people leave them, and look-alikes that must not be reported."""
    keys = [security.generate_api_key() for _ in range(8)]
    hex32 = keys[0][8:]
    real = [
        f"{keys[0]} at the very start",
        f"PROVENANT_API_KEY={keys[1]}",
        f'curl -H "Authorization: Bearer {keys[2]}" https://provenant.example.com/api/agents',
        f'{{"key": "{keys[3]}", "name": "ci"}}',
        f"https://provenant.example.com/api/agents?api_key={keys[4]}&limit=5",
        f"  api_key: '{keys[5]}'  # yaml",
        f"two on a line: {keys[6]},{keys[7]}",
    ]
    look_alikes = [
        "STRIPE_PUBLISHABLE_KEY=pk_live_51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefABCDEF",
        "stripe: pk_live_TYooMQauvdEDq54NiTphI7jx",  # Stripe's documented 24-character form
        f"stripe, lowercase hex start: pk_live_{hex32}Ab9Zq1",  # a longer token that begins like a key
        f"too short: pk_live_{hex32[:31]}",
        f"too long: pk_live_{hex32}0",
        f"uppercase: pk_live_{hex32.upper().replace('0', 'A').replace('1', 'B')}",
        f"embedded: token_pk_live_{hex32} and xpk_live_{hex32} and pk_live_{hex32}_suffix",
        f"other kinds: sk_live_{hex32} pk_test_{hex32} pk_LIVE_{hex32}",
        f"not hex: pk_live_{'g' * 32}",
    ]
    text = "\n".join(real[:1] + look_alikes[:3] + real[1:] + look_alikes[3:]) + f"\nlast line, no newline: {keys[0]}"
    return text, [*keys, keys[0]]


@pytest.mark.parametrize("finds", FINDERS)
def test_every_real_key_is_found_and_no_look_alike(finds: Finder) -> None:
    text, keys = _sample()
    assert sorted(finds(text)) == sorted(keys)


@pytest.mark.parametrize("finds", FINDERS)
def test_what_is_found_is_exactly_what_the_server_accepts_as_a_key(finds: Finder) -> None:
    text, _ = _sample()
    for found in finds(text):
        assert security.is_well_formed_api_key(found)


@pytest.mark.parametrize("finds", FINDERS)
def test_the_example_in_the_github_pattern_finds_the_key_and_not_the_stripe_key(finds: Finder) -> None:
    example = tomllib.loads((FOLDER / "github-custom-pattern.toml").read_text())["test_string"]
    assert finds(example) == ["pk_live_3f9c1a7e5b2d48c6a0e1f7b39d2c5a84"]


def test_no_look_around_that_gitleaks_or_github_could_not_read() -> None:
    regex, _ = _gitleaks_rule()
    sources = [regex.pattern, _github_pattern().pattern]
    for source in sources:
        assert not re.search(r"\(\?<?[=!]", source), source
