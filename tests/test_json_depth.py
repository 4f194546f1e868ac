"""json_depth: the nesting of a body told from its bytes, agreeing with the parsed document."""

import json
import random
from typing import Any

import pytest

from provenant.json_depth import nests_deeper_than


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(item) for item in value), default=0)
    return 0


def nested(levels: int) -> Any:
    value: Any = "leaf"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("levels", [0, 1, 31, 32])
def test_up_to_the_limit_is_not_too_deep(levels: int) -> None:
    assert not nests_deeper_than(json.dumps(nested(levels)).encode(), 32)


@pytest.mark.parametrize("levels", [33, 34, 500])
def test_past_the_limit_is_too_deep(levels: int) -> None:
    assert nests_deeper_than(json.dumps(nested(levels)).encode(), 32)


def test_many_siblings_are_not_depth() -> None:
    assert not nests_deeper_than(json.dumps([[{"a": [1]}] for _ in range(10_000)]).encode(), 32)


@pytest.mark.parametrize(
    "text", ["[" * 100, "{" * 100, '\\"' + "[" * 100, "\\\\" + "{[" * 50, "é[" * 100, "\\u005b" * 100]
)
def test_brackets_inside_strings_are_text(text: str) -> None:
    body = json.dumps({"content": text, "metadata": {"note": text}}, ensure_ascii=False).encode()
    assert not nests_deeper_than(body, 32)


def test_a_string_does_not_hide_real_nesting_after_an_escaped_quote() -> None:
    body = b'{"a": "x\\"", "b": ' + b"[" * 40 + b"]" * 40 + b"}"
    assert nests_deeper_than(body, 32)


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": "x\\\\", "b": ' + b"[" * 40 + b"]" * 40 + b"}",  # an escaped backslash, then the string ends
        b'{"a": "x\\\\\\"", "b": ' + b"[" * 40 + b"]" * 40 + b"}",  # an escaped backslash, then an escaped quote
        b'[{"a": "\\n\\t\\u005b"}, ' + b"[" * 40 + b"]" * 40 + b"]",  # other escapes
    ],
)
def test_escapes_are_paired_as_a_json_reader_pairs_them(body: bytes) -> None:
    assert json.loads(body)  # each is a valid document, nesting deeper than 32
    assert nests_deeper_than(body, 32)


def test_escaped_backslashes_and_quotes_keep_brackets_inside_their_string() -> None:
    text = "\\" + '\\"' + "[" * 100 + "\\\\"
    body = json.dumps([{"content": text}] * 50).encode()
    assert not nests_deeper_than(body, 32)


@pytest.mark.parametrize("body", [b"[" * 100_000, b"{" * 33, b'{"a":' * 40, b"[" * 100_000 + b"]" * 100_000])
def test_unclosed_or_huge_hostile_bodies_are_too_deep(body: bytes) -> None:
    assert nests_deeper_than(body, 32)


@pytest.mark.parametrize("body", [b"]" * 1000, b"}{" * 20, b"[1, 2", b'{"a": [' + b"1," * 100])
def test_broken_but_shallow_bodies_are_left_to_the_parser(body: bytes) -> None:
    """They get the parser's 400 invalid_json, not a depth 422."""
    assert not nests_deeper_than(body, 32)


def random_document(rng: random.Random, levels: int) -> Any:
    """One branch goes ``levels`` deep; its siblings are shallow, so documents stay small."""
    if levels == 0:
        return rng.choice(["a[b{", 1, 'x\\"[', None, "]}", "é", 2.5])
    items = [random_document(rng, levels - 1)]
    items += [random_document(rng, rng.randint(0, min(levels - 1, 2))) for _ in range(rng.randint(0, 2))]
    rng.shuffle(items)
    if rng.random() < 0.5:
        return items
    return {f"k{index}[": item for index, item in enumerate(items)}


def test_agrees_with_the_parsed_depth_of_random_documents() -> None:
    rng = random.Random(10)
    for _ in range(500):
        document = random_document(rng, rng.randint(0, 40))
        body = json.dumps(document, ensure_ascii=rng.random() < 0.5).encode()
        for limit in (1, 5, 32):
            assert nests_deeper_than(body, limit) == (depth(document) > limit), (body[:200], limit)
