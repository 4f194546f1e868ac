"""Logging, configured in one place for ``provenant serve`` and for uvicorn's own loggers.

One handler on the root logger, to stderr; uvicorn's loggers propagate to it. The handler carries
``log_redaction.RedactSecrets``, so no line of any logger leaves the process with a key, a token or a password.
``PROVENANT_LOG_FORMAT=json`` writes one JSON object per line, each naming the request it was written for
(``requestId``, as returned in ``X-Request-Id``); ``text`` (the default) is for a person at a terminal.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any

from provenant import request_id
from provenant.log_redaction import redact

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "requestId"}``, plus ``exception`` and, for an access line,
    ``http: {method, path, status, client}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "requestId": request_id.current.get(),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _, status = record.args
            line["http"] = {"method": method, "path": path, "status": status, "client": client}
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def _handler(formatter: str, stream: str = "ext://sys.stderr") -> dict[str, Any]:
    return {"class": "logging.StreamHandler", "stream": stream, "formatter": formatter, "filters": ["redact"]}


def log_config(level: str, log_format: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary, also given to uvicorn (each worker process applies it).

    Text keeps uvicorn's own line formats (``INFO:     127.0.0.1:5000 - "GET /api/health HTTP/1.1" 200``);
    JSON sends every logger through the one JSON handler.
    """
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "provenant.log_redaction.RedactSecrets"}},
        "root": {"level": level.upper(), "handlers": ["default"]},
        "loggers": {
            # SQLAlchemy logs statements at INFO when its logger is enabled: never, whatever the level.
            "sqlalchemy": {"level": "WARNING"},
        },
    }
    if log_format == "json":
        config["formatters"] = {"json": {"()": f"{__name__}.JsonFormatter"}}
        config["handlers"] = {"default": _handler("json")}
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            config["loggers"][name] = {"handlers": [], "propagate": True}
        return config
    config["formatters"] = {
        "default": {"format": TEXT_FORMAT},
        "uvicorn": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
        "access": {
            "()": "uvicorn.logging.AccessFormatter",
            "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
        },
    }
    config["handlers"] = {
        "default": _handler("default"),
        "uvicorn": _handler("uvicorn"),
        "access": _handler("access", "ext://sys.stdout"),
    }
    config["loggers"] |= {
        "uvicorn": {"handlers": ["uvicorn"], "propagate": False},
        "uvicorn.error": {"handlers": [], "propagate": True},
        "uvicorn.access": {"handlers": ["access"], "propagate": False},
    }
    return config
