"""``provenant backup PATH``: a consistent copy of the SQLite database, taken while the server runs.

SQLite's online backup API copies the database in one step inside one read transaction: in WAL mode that does not
stop the server's writers, and the copy is the database as of one instant, holding every write committed before it
began (so every write the server had answered). It is written next to PATH and renamed into place, so PATH is
always either the previous backup or a whole new one, never a half-written file.

PostgreSQL has its own tools for this (pg_dump, or a base backup with WAL archiving), which know its
transactions; this command says so and exits non-zero rather than half-doing their job.
"""

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from provenant.db import is_sqlite


class BackupRefused(Exception):
    """Why the backup was not taken, in a sentence for the operator."""


def backup(database_url: str, destination: Path) -> Path:
    """Copies the SQLite database at ``database_url`` to ``destination`` (replaced atomically); returns it."""
    if not is_sqlite(database_url):
        raise BackupRefused(
            "provenant backup copies SQLite databases; this server uses PostgreSQL. Back it up with PostgreSQL's "
            'own tools, for example: pg_dump --format=custom --file=provenant.dump "$DATABASE_URL" '
            "(restore with pg_restore; docs/deploy.md, Backups)."
        )
    source_path = make_url(database_url).database
    if not source_path or source_path == ":memory:" or not Path(source_path).is_file():
        raise BackupRefused(f"there is no SQLite database at {source_path or database_url!r} to back up.")
    destination = destination.resolve()
    if destination == Path(source_path).resolve():
        raise BackupRefused("the backup's path is the database itself; choose another path.")
    if not destination.parent.is_dir():
        raise BackupRefused(f"{destination.parent} is not a directory.")
    # The copy holds every account's password hash and every key's hash: readable by its owner only (mkstemp: 0600).
    fd, partial = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".partial")
    os.close(fd)
    try:
        source = sqlite3.connect(source_path, timeout=30)  # reads only; waits out a checkpoint's lock
        try:
            target = sqlite3.connect(partial)
            try:
                source.backup(target)  # pages=-1: the whole database in one step, one snapshot
                target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
                (verdict,) = target.execute("PRAGMA quick_check").fetchone()
                if verdict != "ok":
                    raise BackupRefused(f"the copy failed SQLite's check ({verdict}); the database may be damaged.")
            finally:
                target.close()
        finally:
            source.close()
        os.replace(partial, destination)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
    return destination
