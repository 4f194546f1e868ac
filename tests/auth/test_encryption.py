"""PROVENANT_ENCRYPTION_KEY and auth.encryption: what stored secrets are encrypted with; a bad key is refused."""

import base64
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from provenant.app import create_app
from provenant.auth import encryption
from provenant.auth.encryption import DecryptionFailed, EncryptionKey, decrypt, digest, encrypt
from provenant.config import Settings
from tests.servers import free_port

KEY = EncryptionKey(secrets.token_bytes(32))


def test_a_value_comes_back_only_for_its_purpose_and_key() -> None:
    stored = encrypt(KEY, "JBSWY3DPEHPK3PXP", purpose="totp-seed:user-1")
    assert stored.startswith("v1.") and "JBSWY3DPEHPK3PXP" not in stored
    assert decrypt(KEY, stored, purpose="totp-seed:user-1") == "JBSWY3DPEHPK3PXP"
    assert encrypt(KEY, "JBSWY3DPEHPK3PXP", purpose="totp-seed:user-1") != stored  # a fresh nonce each time
    with pytest.raises(DecryptionFailed):
        decrypt(KEY, stored, purpose="totp-seed:user-2")  # copied into another person's row
    with pytest.raises(DecryptionFailed, match="PROVENANT_ENCRYPTION_KEY"):
        decrypt(EncryptionKey(secrets.token_bytes(32)), stored, purpose="totp-seed:user-1")
    tampered = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(DecryptionFailed):
        decrypt(KEY, tampered, purpose="totp-seed:user-1")
    with pytest.raises(DecryptionFailed):
        decrypt(KEY, "v2.whatever", purpose="totp-seed:user-1")


def test_a_digest_is_keyed_and_bound_to_its_purpose() -> None:
    assert digest(KEY, "abcd", purpose="p") == digest(KEY, "abcd", purpose="p")
    assert digest(KEY, "abcd", purpose="p") != digest(KEY, "abcd", purpose="q")
    assert digest(KEY, "abcd", purpose="p") != digest(EncryptionKey(secrets.token_bytes(32)), "abcd", purpose="p")


def test_the_key_never_shows_in_its_repr() -> None:
    assert KEY.raw.hex() not in repr(KEY) and str(KEY.raw) not in repr(KEY)


@pytest.mark.parametrize(
    "text",
    [
        base64.urlsafe_b64encode(b"\xfb" * 32).decode(),
        base64.urlsafe_b64encode(b"\xfb" * 32).decode().rstrip("="),
        base64.b64encode(b"\xfb" * 32).decode(),  # openssl rand -base64 32
        secrets.token_urlsafe(32),
    ],
    ids=["urlsafe", "unpadded", "standard", "token_urlsafe"],
)
def test_a_32_byte_key_in_base64_is_taken(tmp_path: Path, text: str) -> None:
    settings = Settings(data_dir=tmp_path, encryption_key=text)
    assert len(encryption.parse_key(settings.encryption_key.get_secret_value())) == 32


@pytest.mark.parametrize(
    "text",
    ["", "short", secrets.token_urlsafe(31), secrets.token_urlsafe(33), "é" * 43, secrets.token_urlsafe(32)[:-1] + "!"],
    ids=["empty", "short", "31 bytes", "33 bytes", "not base64", "a stray character"],
)
def test_a_malformed_key_is_refused_with_advice_and_not_echoed(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(data_dir=tmp_path, encryption_key=text)
    message = str(refused.value)
    assert "32-byte key in base64" in message and encryption.ADVICE in message
    if text:
        assert text not in message


def test_without_a_key_one_is_made_once_into_the_data_directory(tmp_path: Path, database_url: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    first = create_app(settings).state.encryption_key
    path = tmp_path / "data" / "encryption-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert create_app(settings).state.encryption_key == first  # a restart keeps it


def test_a_key_file_that_holds_no_key_stops_the_start(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "encryption-key").write_text("not a key")
    with pytest.raises(RuntimeError, match="Restore it from a backup"):
        create_app(Settings(data_dir=tmp_path / "data", database_url=database_url))


def test_provenant_serve_refuses_to_start_with_a_malformed_key(tmp_path: Path) -> None:
    bad = "a-malformed-key-value"
    environment = {
        **os.environ,
        "PROVENANT_DATA_DIR": str(tmp_path / "data"),
        "PROVENANT_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'provenant.db'}",
        "PROVENANT_ENCRYPTION_KEY": bad,
    }
    command = [sys.executable, "-m", "provenant", "serve", "--port", str(free_port())]
    finished = subprocess.run(command, env=environment, capture_output=True, timeout=60)

    assert finished.returncode != 0
    output = (finished.stdout + finished.stderr).decode()
    assert "PROVENANT_ENCRYPTION_KEY" in output and "32-byte key in base64" in output
    assert bad not in output and "Traceback" not in output
