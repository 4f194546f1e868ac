"""One email to one SMTP server, as ``PROVENANT_SMTP_URL`` says.

Python's own ``smtplib``, run in a worker thread by the sender: it is maintained with the language,
speaks STARTTLS, implicit TLS and AUTH LOGIN/PLAIN, verifies certificates through ``ssl`` and bounds a
conversation with a timeout, and it adds no dependency. An async client (aiosmtplib) would spare the
thread, but the sender sends one email at a time, off the request path, so a thread costs nothing a
request can notice.

- ``smtp://host:25`` — plain SMTP, upgraded with STARTTLS whenever the server offers it.
- ``smtp://user:pass@host:587`` — the same, then login. A login is only ever sent encrypted: a server
  that does not offer STARTTLS gets no password (the delivery fails, is logged and retried).
- ``smtps://user:pass@host:465`` — TLS from the first byte (implicit TLS), then login.

Certificates are verified against the system's CAs, or ``PROVENANT_SMTP_CA_FILE``'s.
"""

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

from provenant.email.templates import Rendered


class SmtpRefused(Exception):
    """A delivery that failed for a reason worth logging (the message never carries a password)."""


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None
    sender: str
    timeout: float
    ca_file: Path | None

    @classmethod
    def from_url(cls, url: str, *, sender: str, timeout: float, ca_file: Path | None) -> "SmtpServer":
        parts = urlsplit(url)
        implicit_tls = parts.scheme.lower() == "smtps"
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if implicit_tls else 25),
            implicit_tls=implicit_tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=sender,
            timeout=timeout,
            ca_file=ca_file,
        )

    @property
    def description(self) -> str:
        """Where mail goes, for logs: never the password."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    def message(self, to: str, rendered: Rendered, *, message_id: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = rendered.subject
        message["Date"] = formatdate(localtime=False)
        # Stable per outbox row: a receiving server or a mail client can tell a resend from a new email.
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"
        message["Message-ID"] = f"<{message_id}@{domain}>"
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message

    def send(self, message: EmailMessage) -> None:
        """Delivers ``message`` or raises (OSError, smtplib.SMTPException, ssl.SSLError, SmtpRefused).
        Blocking: the sender runs it in a worker thread."""
        client: smtplib.SMTP
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls())
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if not self.implicit_tls and client.has_extn("starttls"):
                client.starttls(context=self._tls())
                client.ehlo()
            if self.username is not None:
                if not isinstance(client.sock, ssl.SSLSocket):
                    raise SmtpRefused(
                        f"{self.host}:{self.port} does not offer STARTTLS: the SMTP password is not sent unencrypted "
                        "(use smtps:// or a server that offers STARTTLS)"
                    )
                client.login(self.username, self.password or "")
            client.send_message(message)
