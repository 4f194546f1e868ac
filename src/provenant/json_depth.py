"""How deeply a JSON body nests, told from its bytes before anything parses it.

A deeply nested body is cheap to send and dear to handle: Python's parser, pydantic and the response
serialiser all recurse (a turn whose content nested 500 arrays deep answered 500, 100,000 ``[`` blew the
parser's recursion). Bodies are refused past ``MAX_DEPTH`` levels, counted with C-speed bytes operations:
strings are cut out (a ``[`` inside one is text), then innermost ``[]`` pairs are removed once per level.
"""

import re

MAX_DEPTH = 32

# A JSON string, escapes included; unrolled so that matching never backtracks. '"' and '\' never occur
# inside a multi-byte UTF-8 character, so bytes are as good as text here.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPENERS = b"[{"
# Every opener becomes "[", every closer "]", and everything else is deleted.
_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


def nests_deeper_than(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels (the outermost one is level 1).

    Each pass removes every innermost pair, so a pair that survives ``limit`` passes encloses more
    than ``limit`` levels. Openers left unclosed (a truncated or hostile body) count as levels too:
    more than ``limit`` of them is too deep whatever follows.
    """
    if sum(body.count(opener) for opener in _OPENERS) <= limit:
        return False  # the common case: too few brackets to nest that deep
    brackets = _STRING.sub(b"", body).translate(_AS_BRACKETS, _NOT_BRACKETS)
    for _ in range(limit):
        collapsed = brackets.replace(b"[]", b"")
        if collapsed == brackets:
            break
        brackets = collapsed
    return b"[]" in brackets or brackets.count(b"[") > limit
