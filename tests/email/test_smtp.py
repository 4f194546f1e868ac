"""SMTP as PROVENANT_SMTP_URL says: plain, STARTTLS when offered, implicit TLS, login only over TLS, the
server's certificate verified (against PROVENANT_SMTP_CA_FILE for a private CA), against a real SMTP server."""

import ssl
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from provenant.app import create_app
from provenant.config import Settings
from provenant.db import Database
from provenant.email.smtp import SmtpRefused, SmtpServer
from provenant.email.templates import render
from tests.email.mailbox import (
    SMTP_PASSWORD,
    SMTP_USER,
    Certificate,
    self_signed_certificate,
    smtp_server,
    text_of,
    with_email,
)
from tests.factories import invite, register

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # implicit TLS: see mailbox


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed_certificate(tmp_path_factory.mktemp("smtp-tls"))


def send(url: str, *, ca_file: Path | None = None) -> None:
    server = SmtpServer.from_url(url, sender="Provenant <noreply@example.com>", timeout=10, ca_file=ca_file)
    rendered = render("password_changed", {"name": "Ada", "email": "ada@example.com"})
    server.send(server.message("ada@example.com", rendered, message_id="0f0e"))


def test_plain_smtp_without_login_delivers() -> None:
    with smtp_server() as (mailbox, port):
        send(f"smtp://127.0.0.1:{port}")
    [message] = mailbox.messages
    assert message["From"] == "Provenant <noreply@example.com>"
    assert message["Subject"] == "Your Provenant password was changed"
    assert message["Message-ID"] == "<0f0e@example.com>"  # the outbox row's id: a resend is recognisable
    assert "Hello Ada" in text_of(message)


def test_starttls_then_login_with_the_ca_file(certificate: Certificate) -> None:
    with smtp_server(certificate=certificate, starttls=True, login=True) as (mailbox, port):
        send(f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}", ca_file=certificate.cert_file)
    assert len(mailbox.messages) == 1
    assert mailbox.logins == [SMTP_USER]


def test_a_certificate_nobody_vouches_for_is_refused(certificate: Certificate) -> None:
    with (
        smtp_server(certificate=certificate, starttls=True) as (mailbox, port),
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        send(f"smtp://127.0.0.1:{port}")  # the system's CAs only
    assert mailbox.messages == []


def test_implicit_tls_then_login(certificate: Certificate) -> None:
    with smtp_server(certificate=certificate, implicit_tls=True, login=True) as (mailbox, port):
        send(f"smtps://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}", ca_file=certificate.cert_file)
    assert len(mailbox.messages) == 1
    assert mailbox.logins == [SMTP_USER]


def test_a_password_is_never_sent_over_a_connection_without_tls() -> None:
    with smtp_server() as (mailbox, port), pytest.raises(SmtpRefused) as refused:  # a server without STARTTLS
        send(f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}")
    assert mailbox.messages == [] and mailbox.logins == []
    assert SMTP_PASSWORD not in str(refused.value)


def test_the_description_for_logs_names_no_password() -> None:
    server = SmtpServer.from_url(
        f"smtps://{SMTP_USER}:{SMTP_PASSWORD}@mail.example.com", sender="x@example.com", timeout=1, ca_file=None
    )
    assert server.description == f"smtps://{SMTP_USER}@mail.example.com:465"


def test_the_server_sends_as_its_settings_say(settings: Settings, database: Database, certificate: Certificate) -> None:
    """PROVENANT_SMTP_URL with a login over STARTTLS, trusting PROVENANT_SMTP_CA_FILE: an invitation arrives."""
    with smtp_server(certificate=certificate, starttls=True, login=True) as (mailbox, port):
        configured = with_email(
            settings,
            port,
            smtp_url=f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}",
            smtp_ca_file=certificate.cert_file,
        )
        with TestClient(create_app(configured), raise_server_exceptions=False) as client:
            invitation = invite(client, register(client))
            [message] = mailbox.wait_for(1, to=invitation["email"])
    assert mailbox.logins == [SMTP_USER]
    assert invitation["inviteLink"] in text_of(message)
