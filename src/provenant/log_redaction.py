"""Secrets never reach a log: a filter on every handler masks keys, bearer tokens and link tokens.

The server never logs a secret itself; this catches what others print, such as the access log
line of a request that put a key in its query string.
"""

import logging
import re

_PATTERNS = (
    (re.compile(r"pk_live_[A-Za-z0-9]+"), "pk_live_[REDACTED]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[REDACTED]"),
    (re.compile(r"(?i)([?&](?:token|api_key|apikey|key|access_token)=)[^&\s\"]+"), r"\1[REDACTED]"),
    # The invitation preview carries its token in the path (GET /api/auth/invitations/{token}).
    (re.compile(r"(/auth/invitations/)[^/?#\s\"]+"), r"\1[REDACTED]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install() -> None:
    """Attach the filter to every handler of the root and uvicorn loggers."""
    redactor = RedactSecrets()
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                handler.addFilter(redactor)
