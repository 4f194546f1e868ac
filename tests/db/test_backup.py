"""`provenant backup PATH` while the server writes: the copy restores to a server holding every write answered
before the backup began, consistent (no turn without the ones before it); PostgreSQL is told to use pg_dump."""

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.databases import sqlite_url
from tests.db.test_crash_safety import Answered, write_turns
from tests.factories import bearer, create_agent, create_key, register
from tests.servers import serve

WRITERS = 3


def provenant(*arguments: str, data_dir: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROVENANT_DATA_DIR": str(data_dir), "PROVENANT_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "provenant", *arguments], env=env, capture_output=True, text=True, timeout=120
    )


def test_a_backup_taken_while_the_server_writes_restores_every_answered_write(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "live" / "provenant.db")
    backup = tmp_path / "backups" / "provenant-backup.db"
    backup.parent.mkdir()
    answered = Answered()
    stop = threading.Event()
    with serve(tmp_path / "live", url) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        owner = register(http)
        headers = bearer(create_key(http, owner, name="agent"))
        agent = create_agent(http, headers)
        for _ in range(WRITERS):
            answered.turns[http.post("/api/sessions", json={"agentId": agent["id"]}, headers=headers).json()["id"]] = []
        writers = [
            threading.Thread(target=write_turns, args=(server.url, headers, session_id, answered, stop))
            for session_id in answered.turns
        ]
        for thread in writers:
            thread.start()
        try:
            while sum(map(len, answered.turns.values())) < 30:  # well under way
                stop.wait(0.05)
            before = {session_id: list(turns) for session_id, turns in answered.turns.items()}
            result = provenant("backup", str(backup), data_dir=server.data_dir, database_url=url)
            during = sum(map(len, answered.turns.values())) - sum(map(len, before.values()))
        finally:
            stop.set()
            for thread in writers:
                thread.join(timeout=10)
        assert result.returncode == 0, result.stderr
        assert answered.failures == [], answered.failures[:3]
        assert during > 0, "the server wrote nothing while the backup ran: the test proves nothing"
        jwt_secret = (server.data_dir / "jwt-secret").read_text()

    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # password and key hashes: the owner's only
    assert not list(backup.parent.glob(".*partial"))  # the partial file was renamed into place
    copy = sqlite3.connect(backup)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file, no -wal beside it
    finally:
        copy.close()

    # Restore: the copy as a new server's database, with the same JWT secret beside it.
    restored_dir = tmp_path / "restored" / "live-data"
    restored_dir.mkdir(parents=True)
    shutil.copy(backup, restored_dir / "provenant.db")
    (restored_dir / "jwt-secret").write_text(jwt_secret)
    restored_url = sqlite_url(restored_dir / "provenant.db")
    with serve(tmp_path / "restored", restored_url) as restored, httpx.Client(base_url=restored.url) as http:
        assert http.get("/api/auth/me", headers=owner.headers).status_code == 200  # sessions survive too
        for session_id, turn_ids in before.items():
            response = http.get(f"/api/sessions/{session_id}", headers=headers)
            assert response.status_code == 200, response.text
            stored = [turn["id"] for turn in response.json()["turns"]]
            # Every turn answered before the backup began; after them, only turns answered later, in their order:
            # a snapshot of one instant, never a later turn without the earlier ones.
            assert stored[: len(turn_ids)] == turn_ids
            assert stored == answered.turns[session_id][: len(stored)]


def test_a_backup_replaces_the_previous_one_whole(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "data" / "provenant.db")
    assert provenant("migrate", data_dir=tmp_path / "data", database_url=url).returncode == 0
    backup = tmp_path / "backup.db"
    backup.write_text("the previous backup")
    result = provenant("backup", str(backup), data_dir=tmp_path / "data", database_url=url)
    assert result.returncode == 0, result.stderr
    assert str(backup) in result.stdout
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("database_url", "message"),
    [
        ("postgresql+psycopg://provenant:s3cret-password@db.internal:5432/provenant", "pg_dump"),
        ("sqlite:////nonexistent/dir/provenant.db", "no SQLite database"),
    ],
)
def test_what_it_cannot_back_up_it_refuses_clearly(tmp_path: Path, database_url: str, message: str) -> None:
    result = provenant("backup", str(tmp_path / "backup.db"), data_dir=tmp_path, database_url=database_url)
    assert result.returncode != 0
    assert message in result.stderr
    assert "s3cret-password" not in result.stderr + result.stdout
    assert not (tmp_path / "backup.db").exists()
