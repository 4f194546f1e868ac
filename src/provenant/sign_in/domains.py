"""Email domains and the organization that claims each for single sign-on: the one place that normalises a
domain, finds who claims an email, and refuses a password where single sign-on is enforced.

A domain is kept lower-case in its IDNA A-label form (UTS #46 mapping, as browsers apply it): ``Bücher.EXAMPLE``
and ``xn--bcher-kva.example`` are one domain, claimed once.
"""

import idna
from sqlalchemy import select
from sqlalchemy.orm import Session

from provenant.errors import Forbidden
from provenant.models import SsoConfig, SsoDomain

# Mailbox providers anyone can get an address at: a claim on one would hand one org everybody's sign-in.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
        "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de",
        "web.de", "mail.com", "yandex.com", "yandex.ru", "zoho.com", "qq.com", "163.com", "fastmail.com",
    }
)  # fmt: skip


class BadDomain(ValueError):
    """Not a domain an email can be at; the message says why, for a form field."""


def normalise(domain: str) -> str:
    """``domain`` lower-cased in A-label form, without a trailing dot; BadDomain when it is not one."""
    text = domain.strip().rstrip(".")
    if not text or any(c in text for c in "@/:\\ *?#%") or any(ord(c) < 0x21 for c in text):
        raise BadDomain("must be a domain name such as acme.com (no @, scheme, path or wildcard)")
    try:
        ascii_form = idna.encode(text, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        raise BadDomain("is not a valid internationalised domain name") from None
    if "." not in ascii_form or len(ascii_form) > 253:
        raise BadDomain("must be a full domain name, such as acme.com")
    return ascii_form


def domain_of(email: str) -> str | None:
    """The normalised domain of an email address, or None when it has none that can be."""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local:
        return None
    try:
        return normalise(domain)
    except BadDomain:
        return None


def claiming_config(session: Session, email: str) -> SsoConfig | None:
    """The single sign-on configuration of the org that claims the email's domain, if any."""
    domain = domain_of(email)
    if domain is None:
        return None
    return session.scalars(
        select(SsoConfig).join(SsoDomain, SsoDomain.org_id == SsoConfig.org_id).where(SsoDomain.domain == domain)
    ).one_or_none()


def is_enforced(session: Session, email: str) -> bool:
    config = claiming_config(session, email)
    return config is not None and config.enforce


def refuse_password_if_enforced(session: Session, email: str) -> None:
    """403 ``sso_required`` for an email whose domain an org signs in with single sign-on only: password
    sign-in, password reset and accepting an invitation (which signs in with a password) all ask this."""
    if is_enforced(session, email):
        raise Forbidden("Your organization signs in with single sign-on: use Sign in with SSO.", code="sso_required")


def any_configured(session: Session) -> bool:
    """Whether any org signs in with single sign-on (the Sign in page then offers it)."""
    return session.scalar(select(SsoConfig.org_id).limit(1)) is not None
