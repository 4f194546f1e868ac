"""Secrets never reach a log: a filter on every handler masks API keys, the ``Authorization`` header, bearer
tokens and JWTs wherever they appear, invitation tokens, password and hash values, and secret-named fields.

The server never logs a secret itself; this catches what others print, such as the access log
line of a request that put a key in its query string.
"""

import logging
import re
from typing import Any

_PATTERNS = (
    (re.compile(r"pk_live_[A-Za-z0-9]+"), "pk_live_[REDACTED]"),
    # A header as a client library prints it: "Authorization: Basic …", ('authorization', 'Bearer …').
    (re.compile(r"""(?i)(authorization['"]?\s*[:=,]\s*(?:b?['"])?)[^'"\r\n]+"""), r"\1[REDACTED]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[REDACTED]"),
    # A JWT anywhere (its header always starts with '{"', base64url "eyJ").
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"), "[REDACTED_JWT]"),
    (re.compile(r"\$argon2(?:id|i|d)\$[^\s'\"]+"), "[REDACTED_HASH]"),
    # A SHA-256 in hex (a key's or an invitation token's stored hash): nothing else the server logs looks so.
    (re.compile(r"(?i)(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])"), "[REDACTED_HASH]"),
    # A field whose name says it holds a secret, as JSON, a repr or key=value: "password": "…", token=….
    (
        re.compile(r"""(?i)(\b[\w-]*(?:password|passwd|secret|token)['"]?\s*[:=]\s*b?(['"]))(?:\\.|(?!\2).)*\2"""),
        r"\1[REDACTED]\2",
    ),
    (
        re.compile(r"""(?i)(\b[\w-]*(?:password|passwd|secret|token)['"]?\s*[:=]\s*)(?!b?['"])[^'"\s,&;)}\]]+"""),
        r"\1[REDACTED]",
    ),
    # Query parameters whose name says they hold a secret (a password sent to the wrong place too), and the
    # sign-in redirects' one-use codes and state (/sso-complete?code=…, a provider's ?code=…&state=…).
    (
        re.compile(r"(?i)([?&][^=&\s\"]*(?:token|key|password|passwd|secret|code|state)[^=&\s\"]*=)[^&\s\"]*"),
        r"\1[REDACTED]",
    ),
    # The invitation preview carries its token in the path (GET /api/auth/invitations/{token}).
    (re.compile(r"(/auth/invitations/)[^/?#\s\"]+"), r"\1[REDACTED]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, float)) or value is None:
        return value  # keeps %d and friends working
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


class RedactSecrets(logging.Filter):
    """Redacts the message and each argument in place, so formatters that read ``record.args``
    themselves (uvicorn's access log does) keep working; tracebacks are rendered and redacted too."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_value(arg) for key, arg in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def install() -> None:
    """Attach the filter to every handler of the root and uvicorn loggers."""
    redactor = RedactSecrets()
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                handler.addFilter(redactor)
