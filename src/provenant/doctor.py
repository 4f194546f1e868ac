"""``provenant doctor``: what the server would use, with this environment, and whether it answers.

For the operator before a start or during an incident: the database (reachable, its schema's revision), Redis and
the SMTP server when configured (reachable), the data directory, and which secrets are set, never their values
(URLs are shown with their passwords masked). Exits 1 when something the server needs is wrong.
"""

import os
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from provenant import __version__
from provenant.config import Settings
from provenant.db import is_sqlite
from provenant.migrate import alembic_config
from provenant.readiness import TIMEOUT, Readiness

# Settings whose values are secrets: doctor says whether each is set, and where from.
SECRETS = (
    "PROVENANT_JWT_SECRET",
    "PROVENANT_ENCRYPTION_KEY",
    "PROVENANT_GITHUB_CLIENT_SECRET",
    "PROVENANT_INIT_USER_PASSWORD",
    "PROVENANT_INIT_API_KEY",
)
# The secrets the server generates into the data directory when their setting is unset.
GENERATED = {"PROVENANT_JWT_SECRET": "jwt-secret", "PROVENANT_ENCRYPTION_KEY": "encryption-key"}


@dataclass
class Report:
    lines: list[str]
    problems: int = 0

    def ok(self, what: str, detail: str) -> None:
        self.lines.append(f"  ok    {what}: {detail}")

    def info(self, what: str, detail: str) -> None:
        self.lines.append(f"        {what}: {detail}")

    def problem(self, what: str, detail: str) -> None:
        self.lines.append(f"  FAIL  {what}: {detail}")
        self.problems += 1


def masked(url: str) -> str:
    """``url`` with its password, if it has one, replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _reachable(report: Report, what: str, where: str, probe: Callable[[], None]) -> bool:
    try:
        probe()
    except Exception as error:  # any failure to answer is the finding
        cause = getattr(error, "orig", None) or error  # SQLAlchemy's wrapper adds only a link to its docs
        first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        report.problem(what, f"{where} cannot be reached ({type(cause).__name__}: {first_line})")
        return False
    report.ok(what, f"{where} answers")
    return True


def _schema_revision(url: str) -> str:
    engine = create_engine(url, connect_args={"timeout": TIMEOUT} if is_sqlite(url) else {"connect_timeout": 2})
    try:
        with engine.connect() as connection:
            exists = connection.dialect.has_table(connection, "alembic_version")
            if not exists:
                return "empty (provenant serve or provenant migrate will create the schema)"
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision == head:
        return f"at revision {revision}, the latest"
    return f"at revision {revision}; this version's latest is {head} (provenant serve or migrate applies it)"


def _smtp_answers(url: str, ca_file: str | None = None) -> None:
    parsed = urlsplit(url)
    implicit_tls = parsed.scheme == "smtps"
    host, port = parsed.hostname or "localhost", parsed.port or (465 if implicit_tls else 587)
    context = ssl.create_default_context(cafile=ca_file)  # PROVENANT_SMTP_CA_FILE, as the outbox trusts
    client: smtplib.SMTP
    if implicit_tls:
        client = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=TIMEOUT)
    try:
        client.ehlo()
        if not implicit_tls and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if parsed.username:
            client.login(unquote(parsed.username), unquote(parsed.password or ""))
        client.noop()
    finally:
        client.close()


def examine(settings: Settings, environ: dict[str, str] | None = None) -> Report:
    environ = dict(os.environ) if environ is None else environ
    report = Report(lines=[f"Provenant {__version__}"])
    data_dir = settings.data_dir.resolve()
    if data_dir.is_dir():
        if os.access(data_dir, os.W_OK):
            report.ok("data directory", str(data_dir))
        else:
            report.problem("data directory", f"{data_dir} is not writable by this user")
    elif (parent := _existing_parent(data_dir)).is_dir() and os.access(parent, os.W_OK):
        report.ok("data directory", f"{data_dir} (made at the first start)")
    else:
        report.problem("data directory", f"{data_dir} does not exist and cannot be made by this user")

    url = settings.resolved_database_url
    kind = "SQLite" if is_sqlite(url) else make_url(url).get_backend_name()
    readiness = Readiness(settings)
    if _reachable(report, "database", f"{kind} {masked(url)}", readiness.database_answers):
        try:
            report.info("schema", _schema_revision(url))
        except Exception as error:
            report.problem("schema", f"cannot be read ({type(error).__name__}: {error})")

    if settings.redis_url:
        _reachable(report, "redis", masked(settings.redis_url), readiness.redis_answers)
    else:
        report.info("redis", "not configured (PROVENANT_REDIS_URL): counters live in the database")

    smtp_url = getattr(settings, "smtp_url", None) or environ.get("PROVENANT_SMTP_URL")
    if smtp_url:
        smtp_url = smtp_url.get_secret_value() if hasattr(smtp_url, "get_secret_value") else str(smtp_url)
        ca_file = getattr(settings, "smtp_ca_file", None)
        _reachable(report, "smtp", masked(smtp_url), lambda: _smtp_answers(smtp_url, str(ca_file) if ca_file else None))
    else:
        report.info("smtp", "not configured (PROVENANT_SMTP_URL): no email is sent")

    for name in SECRETS:
        if environ.get(name):
            report.info("secret", f"{name} is set")
        elif name in GENERATED:
            file = data_dir / GENERATED[name]
            where = f"read from {file}" if file.is_file() else f"to be generated into {file} at the first start"
            report.info("secret", f"{name} is not set: {where}")
        else:
            report.info("secret", f"{name} is not set")
    report.info("metrics", "served at /metrics" if settings.metrics else "off (PROVENANT_METRICS)")
    proxies = ", ".join(settings.trusted_proxies) or "none: the client is the connection's peer"
    report.info("trusted proxies", proxies)
    report.info("public URL", settings.public_url or "not set")
    return report


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
