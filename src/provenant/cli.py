"""``provenant serve | migrate | backup PATH | doctor | users list | users reset-password EMAIL``."""

import argparse
import logging
import logging.config
import sys
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from provenant import logging_setup, migrate
from provenant.accounts import first_start, password_reset
from provenant.auth.encryption import deployment_key, load_or_create_key
from provenant.auth.security import load_or_create_jwt_secret
from provenant.config import Settings, get_settings
from provenant.db import Database
from provenant.email.outbox import install_outbox
from provenant.errors import NotFound
from provenant.metrics import multiprocess as metrics_multiprocess
from provenant.models import Org, User

logger = logging.getLogger("provenant")


def _migrate() -> None:
    settings = get_settings()
    database = Database(settings.resolved_database_url)
    try:
        migrate.upgrade(database)
    finally:
        database.dispose()


def serve(host: str, port: int, workers: int) -> None:
    settings = get_settings()
    log_config = logging_setup.log_config(settings.log_level, settings.log_format)
    logging.config.dictConfig(log_config)
    if workers > 1 and not settings.redis_url:
        logging.getLogger("provenant").warning(
            "%d workers without PROVENANT_REDIS_URL: each counts API keys' rate limits on its own, so a key may "
            "make up to %d times its limit a minute; set PROVENANT_REDIS_URL for one shared count",
            workers,
            workers,
        )
    _migrate()
    # Made once here, before workers start, so that every worker signs and encrypts with the same secrets.
    if settings.jwt_secret is None:
        load_or_create_jwt_secret(settings.data_dir)
    if settings.wants_init:
        _first_start(settings)
    if settings.encryption_key is None:
        load_or_create_key(settings.data_dir)
    # Before any worker (or this process) imports the app and with it prometheus-client, which reads it then.
    metrics_dir = metrics_multiprocess.prepare() if settings.metrics else None
    try:
        _run(settings, log_config, host, port, workers)
    finally:
        if metrics_dir is not None:
            metrics_multiprocess.remove(metrics_dir)


def _run(settings: Settings, log_config: dict[str, Any], host: str, port: int, workers: int) -> None:
    uvicorn.run(
        "provenant.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        log_config=log_config,
        # X-Forwarded-For names the client only when the request comes from a listed proxy: otherwise
        # anyone could choose the address that rate limits and the audit log see.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        server_header=False,  # no banner naming the server software and its version
        # With --workers, uvicorn kills and replaces a worker that does not answer its health check in time.
        # A worker's start (importing the app: about 1.5 s of CPU) can take longer than uvicorn's 5 s on a busy
        # machine, and then workers were killed and started again in a loop (seen on two cores under load).
        timeout_worker_healthcheck=30,
    )


def _backup(path: Path) -> None:
    from provenant.backup import BackupRefused, backup

    try:
        written = backup(get_settings().resolved_database_url, path)
    except BackupRefused as refused:
        sys.exit(f"provenant backup: {refused}")
    print(f"Backed up to {written}. Keep the secrets (the data directory's jwt-secret, ...) with it, apart.")


def _doctor() -> None:
    from provenant.doctor import examine

    report = examine(get_settings())
    print("\n".join(report.lines))
    if report.problems:
        sys.exit(f"provenant doctor: {report.problems} problem(s) found")


def _first_start(settings: Settings) -> None:
    """PROVENANT_INIT_*: once here, before workers start."""
    database = Database(settings.resolved_database_url)
    try:
        first_start.initialize(database, settings)
    except first_start.InitRefused as refused:
        raise SystemExit(f"provenant: invalid configuration:\n  {refused}") from None
    finally:
        database.dispose()


def _fail(message: str) -> None:
    print(f"provenant: {message}", file=sys.stderr)
    raise SystemExit(1)


def _users_list(database: Database) -> None:
    with database.transaction(writes=False) as session:
        rows = session.execute(
            select(User.email, User.name, User.role, Org.slug, User.created_at)
            .outerjoin(Org, Org.id == User.org_id)
            .order_by(Org.slug, User.email_key)
        ).all()
    if not rows:
        print("No accounts yet.")
        return
    table = [("EMAIL", "NAME", "ORGANIZATION", "ROLE", "CREATED")]
    for email, name, role, slug, created_at in rows:
        table.append((email, name, slug or "(none)", role or "-", created_at.strftime("%Y-%m-%d")))
    widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _users_reset_password(database: Database, settings: Settings, email: str) -> None:
    """Prints a one-time reset link: the operator's way in for an OWNER who is locked out."""
    origin = (settings.public_url or "").rstrip("/")
    if settings.email_enabled:  # the person is emailed that a link was issued, as from the Team page
        install_outbox(database, settings, deployment_key(settings))
    try:
        with database.transaction() as session:
            issued = password_reset.issue_by_operator(session, email=email, link_origin=origin)
    except NotFound:
        _fail(f"no account with the email {email!r} in an organization (see: provenant users list)")
    if not origin:
        print(
            "PROVENANT_PUBLIC_URL is not set: open this path on your server's address "
            "(e.g. http://127.0.0.1:4000/reset-password?token=...).",
            file=sys.stderr,
        )
    print(issued.reset_link)
    print(f"It works once, until {issued.expires_at:%Y-%m-%d %H:%M} UTC. Hand it over privately.", file=sys.stderr)


def _users(args: argparse.Namespace) -> None:
    settings = get_settings()
    database = Database(settings.resolved_database_url)
    try:
        if args.users_command == "list":
            _users_list(database)
        else:
            _users_reset_password(database, settings, args.email)
    except SQLAlchemyError as error:
        _fail(
            f"the database at PROVENANT_DATABASE_URL could not be read ({type(error).__name__}); is it reachable, "
            "and migrated (provenant migrate)?"
        )
    finally:
        database.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="provenant", description="Provenant server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="migrate the database, then serve the API")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=4000)
    serve_parser.add_argument("--workers", type=int, default=1)
    commands.add_parser("migrate", help="bring the database schema to the latest revision")
    backup_parser = commands.add_parser(
        "backup", help="copy the SQLite database to PATH, consistently, while the server runs (PostgreSQL: pg_dump)"
    )
    backup_parser.add_argument("path", type=Path)
    commands.add_parser("doctor", help="print what the server would use and whether it answers; exit 1 if not")
    makemigration = commands.add_parser("makemigration", help="(developers) autogenerate a revision")
    makemigration.add_argument("message")
    users = commands.add_parser("users", help="accounts, for the server's operator")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    users_commands.add_parser("list", help="every account with its organization and role")
    reset = users_commands.add_parser("reset-password", help="print a one-time password reset link for an account")
    reset.add_argument("email")

    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.host, args.port, args.workers)
    elif args.command == "migrate":
        _migrate()
    elif args.command == "backup":
        _backup(args.path)
    elif args.command == "doctor":
        _doctor()
    elif args.command == "users":
        _users(args)
    else:
        settings = get_settings()
        migrate.autogenerate(Database(settings.resolved_database_url), args.message)
