"""What no request may carry, refused with a 4xx before anything parses it.

A body is JSON encoded in UTF-8, as RFC 8259 requires of JSON exchanged between systems: anything else
is refused with 400 ``invalid_json``. Python's parser would guess UTF-16 or UTF-32 from the first bytes
and read it, and every guard here reads the body as UTF-8 bytes: a UTF-16 body slipped past all of them
(a NUL in a sign-in's email reached PostgreSQL, a body nested 40 deep was stored). Encoded surrogates
(``ED A0 80``), which the parser lets through too, are not UTF-8 either; other bytes that are not UTF-8
the parser refuses itself.

No text with a NUL character (U+0000) reaches the database: PostgreSQL cannot store one in text or
JSON, so it is refused on every database with the same 422, naming where it was found (the path, a
query parameter or a field of the body). Nor does a lone UTF-16 surrogate (``"\\ud800"`` without its
pair): no database can encode it (both answered 500) and no JSON reader elsewhere agrees on what it
means (RFC 8259 section 8.2); a 422 names the field.

A request body is scanned as bytes before anything parses it (C-speed searches for an unescaped
``\\u0000`` and for an escaped surrogate); only when one is found is the JSON parsed again, to tell
whether a surrogate is paired and to name the field. The same read of the body first refuses one that
nests too deeply (``json_depth``), so that nothing, this module's own parse included, recurses through
it. The path and the query string need no surrogate check: Starlette decodes them with replacement
characters.
"""

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from provenant.errors import InvalidJson, ValidationFailed
from provenant.json_depth import MAX_DEPTH, nests_deeper_than

MESSAGE = "must not contain the NUL character (U+0000)"
LONE_SURROGATE = "must not contain a lone UTF-16 surrogate (U+D800 to U+DFFF outside a pair)"
TOO_DEEP = f"must not nest arrays and objects more than {MAX_DEPTH} levels deep"
NOT_UTF8 = "The request body is not valid JSON: send JSON encoded as UTF-8."
# \u0000 not itself escaped: preceded by an even number of backslashes.
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
# Either escape worth a closer look: a NUL, or any surrogate. One search with a literal prefix is faster than
# one substring search for each (130 µs against 330 µs for \u0000 alone, 190 KB of turns on a loaded machine).
_ESCAPE_TO_CHECK = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_ENCODED_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")  # U+D800 to U+DFFF written as UTF-8
# In parsed text: pairs are joined by then, so any surrogate left is a lone one.
_NUL = re.compile("\x00")
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNNAMEABLE = re.compile("[\x00\ud800-\udfff]")  # left out of a field's name (the answer is UTF-8 JSON)


def _field_holding(value: Any, pattern: re.Pattern[str], path: str = "") -> str | None:
    """Where in a parsed JSON document the first text matching ``pattern`` is: ``name``, ``metadata.note``,
    ``[3].role``; a key counts as the field it names."""
    if isinstance(value, str):
        return (path or "body") if pattern.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = _UNNAMEABLE.sub("", key)  # the field is named without what it may not hold
            inner = f"{path}.{name}" if path else name
            if pattern.search(key):
                return inner or "body"  # a key of the body's own that is nothing else
            found = _field_holding(item, pattern, inner)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _field_holding(item, pattern, f"{path}[{index}]")
            if found:
                return found
    return None


def _read_as_utf8(body: bytes) -> bool:
    """Whether the parser will read ``body`` as UTF-8, the way every check here reads it. Python's parser
    guesses UTF-16 or UTF-32 from NUL bytes (a JSON text in either has one beside every ASCII character;
    in UTF-8 JSON escapes every control character, so no JSON text holds one), and decodes UTF-8 with
    ``surrogatepass`` (an encoded surrogate, ``ED A0 80``, would become a lone one). Any other byte that is
    not UTF-8 makes the parser fail: 400 ``invalid_json`` all the same. Decoding the body here to check it
    would cost nearly as much as parsing it (a millisecond for 120 KB of text beyond ASCII)."""
    if b"\x00" in body:
        return False
    return body.isascii() or not _ENCODED_SURROGATE.search(body)


def _parsed(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None  # not JSON after all: the app answers 400 invalid_json


def _field_with_nul(body: bytes) -> str | None:
    # A plain substring search first: the regex's look-behind makes it try every byte (5 ms for a
    # 100 KB batch of turns against 50 µs); it only tells an escaped backslash from a real escape.
    if b"\\u0000" not in body or not _ESCAPED_NUL.search(body):
        return None
    document = _parsed(body)
    return None if document is None else _field_holding(document, _NUL) or "body"


def _field_with_lone_surrogate(body: bytes) -> str | None:
    # Only a body that escapes a surrogate can hold a lone one (encoded ones are not UTF-8: refused first), and
    # the parser decides which escapes pair. Pairing them in the bytes with a regex cost as much as parsing
    # (200 KB of escaped emoji) and misread an escaped backslash between two halves; so a body that escapes
    # characters beyond U+FFFF (Python's json.dumps does by default) is parsed twice.
    if not _SURROGATE_ESCAPE.search(body):
        return None
    document = _parsed(body)
    return None if document is None else _field_holding(document, _SURROGATE)


def _field_in_query(query_string: bytes) -> str | None:
    if b"%00" not in query_string and b"\x00" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "") or "query"
    return None


def refusal_of_target(path: str, query_string: bytes) -> str | None:
    """Where a NUL is in the request's target, if anywhere: ``path``, or the query parameter's name."""
    return "path" if "\x00" in path else _field_in_query(query_string)


def refusal_of_body(body: bytes) -> InvalidJson | ValidationFailed | None:
    """Why ``body`` is refused, if it is: the encoding first (every later check reads UTF-8), then depth
    (the later checks parse the body), then what its text may not hold."""
    if not _read_as_utf8(body):
        return InvalidJson(NOT_UTF8)
    if nests_deeper_than(body):
        return ValidationFailed("body", TOO_DEEP)
    if not _ESCAPE_TO_CHECK.search(body):
        return None  # the common case
    if field := _field_with_nul(body):
        return ValidationFailed(field, MESSAGE)
    if field := _field_with_lone_surrogate(body):
        return ValidationFailed(field, LONE_SURROGATE)
    return None
