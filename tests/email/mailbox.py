"""A real SMTP server for tests (aiosmtpd, in a thread of the test process), and a certificate for its TLS.

``smtp_server(...)`` listens on a free loopback port: plain, STARTTLS (``starttls=True``) or implicit TLS
(``implicit_tls=True``), optionally requiring a login. Every message it accepts lands in ``Mailbox.messages``.
"""

import datetime
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database
from tests.servers import free_port

SMTP_USER, SMTP_PASSWORD = "mailer", "smtp-secret-Xq3"


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, count: int, *, to: str | None = None, timeout: float = 15) -> list[EmailMessage]:
        """At least ``count`` messages (to ``to``), waiting up to ``timeout`` seconds for them."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                found = [m for m in self.messages if to is None or m["To"] == to]
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) >= count, f"{len(found)} of {count} emails arrived: {[m['Subject'] for m in found]}"
                return found
            time.sleep(0.05)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def self_signed_certificate(directory: Path) -> Certificate:
    """A certificate for 127.0.0.1 and localhost, signed by itself: the client trusts it as its CA file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "provenant test smtp")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Certificate(cert_file, key_file)


def _authenticator(mailbox: Mailbox) -> Any:
    def authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        if ok:
            with mailbox.lock:
                mailbox.logins.append(SMTP_USER)
        return AuthResult(success=ok)

    return authenticate


@contextmanager
def smtp_server(
    *,
    port: int | None = None,
    certificate: Certificate | None = None,
    starttls: bool = False,
    implicit_tls: bool = False,
    login: bool = False,
    mailbox: Mailbox | None = None,
) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on 127.0.0.1 (``port`` or a free one), stopped on exit: its mailbox and its port."""
    mailbox = mailbox or Mailbox()
    port = port or free_port()
    options: dict[str, Any] = {}
    if starttls:
        assert certificate is not None
        options |= {"tls_context": certificate.server_context(), "require_starttls": True}
    if implicit_tls:
        assert certificate is not None
        # aiosmtpd knows of TLS only through STARTTLS: over implicit TLS it must be told that AUTH may be offered.
        options |= {"ssl_context": certificate.server_context(), "auth_require_tls": False}
    if login:
        options |= {"authenticator": _authenticator(mailbox), "auth_required": True}
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


PUBLIC_URL = "http://dashboard.example.test"


def with_email(settings: Settings, port: int, **overrides: Any) -> Settings:
    """``settings`` with email through the SMTP server on ``port``, polled and retried at test speed."""
    values: dict[str, Any] = {
        "smtp_url": f"smtp://127.0.0.1:{port}",
        "public_url": PUBLIC_URL,
        "email_from": "Provenant <noreply@example.test>",
        "email_poll_interval": 0.2,
        "email_retry_delay": 0.3,
        "smtp_timeout": 5,
    }
    return Settings(**(settings.model_dump() | values | overrides))


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A plain SMTP server on a free port: its mailbox and its port."""
    with smtp_server() as served:
        yield served


@pytest.fixture
def mail_client(settings: Settings, mailbox: tuple[Mailbox, int], database: Database) -> Iterator[TestClient]:
    """The app with email through ``mailbox``'s server (its sender runs while the client is open)."""
    with TestClient(create_app(with_email(settings, mailbox[1])), raise_server_exceptions=False) as client:
        yield client
