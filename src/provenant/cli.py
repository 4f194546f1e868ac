"""``provenant serve | migrate``."""

import argparse
import logging.config

import uvicorn

from provenant import logging_setup, migrate
from provenant.auth.security import load_or_create_jwt_secret
from provenant.config import get_settings
from provenant.db import Database


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
    if settings.jwt_secret is None:
        # Made once here, before workers start, so every worker signs with the same secret.
        load_or_create_jwt_secret(settings.data_dir)
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="provenant", description="Provenant server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="migrate the database, then serve the API")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=4000)
    serve_parser.add_argument("--workers", type=int, default=1)
    commands.add_parser("migrate", help="bring the database schema to the latest revision")
    makemigration = commands.add_parser("makemigration", help="(developers) autogenerate a revision")
    makemigration.add_argument("message")

    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.host, args.port, args.workers)
    elif args.command == "migrate":
        _migrate()
    else:
        settings = get_settings()
        migrate.autogenerate(Database(settings.resolved_database_url), args.message)
