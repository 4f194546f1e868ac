"""What each email says: a subject, a plain-text body and an HTML body, from the same few values.

Every value is escaped in the HTML body (a member's name is whatever they typed). An email carries no
key, password or token but the one link it exists for (invitation, password reset); a key is named by
its name and display prefix (``pk_live_a1b2c3d4…``), never by its secret.

The values each template needs (``render`` raises KeyError naming one that is missing):

- invitation: inviter_name, org_name, role, link, expires_at
- password_reset: name, link
- password_reset_no_password: name, link (the sign-in page)
- password_changed, two_factor_enabled, two_factor_disabled: name, email
- member_password_reset_issued: name, email, issuer_name, org_name
- key_exposed_revoked: name, key_name, key_prefix, org_name, link
- key_expiring: name, key_name, key_prefix, org_name, expires_at, link
"""

import html
from dataclasses import dataclass
from string import Template


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class _Email:
    subject: str
    text: str
    # Paragraphs of the HTML body; ``$link`` (when the email has one) becomes a button after them.
    paragraphs: tuple[str, ...]
    button: str | None = None


_SIGN_OFF = "\n\n— Provenant\n"

_TEMPLATES: dict[str, _Email] = {
    "invitation": _Email(
        subject="$inviter_name invited you to $org_name on Provenant",
        text="$inviter_name invited you to join $org_name on Provenant as $role.\n\n"
        "Accept the invitation (the link works once, until $expires_at):\n$link\n\n"
        "If you did not expect this, ignore this email.",
        paragraphs=(
            "$inviter_name invited you to join <strong>$org_name</strong> on Provenant as $role.",
            "The link works once, until $expires_at. If you did not expect this, ignore this email.",
        ),
        button="Accept the invitation",
    ),
    "password_reset": _Email(
        subject="Reset your Provenant password",
        text="Hello $name,\n\nsomeone (we hope you) asked to reset the password of your Provenant account.\n\n"
        "Choose a new password here (the link works once, for one hour):\n$link\n\n"
        "If you did not ask, ignore this email: your password stays as it is.",
        paragraphs=(
            "Hello $name,",
            "someone (we hope you) asked to reset the password of your Provenant account. "
            "The link below works once, for one hour.",
            "If you did not ask, ignore this email: your password stays as it is.",
        ),
        button="Choose a new password",
    ),
    "password_reset_no_password": _Email(
        subject="Your Provenant account signs in without a password",
        text="Hello $name,\n\nsomeone (we hope you) asked to reset the password of your Provenant account. It has "
        "none: it signs in through your organization's single sign-on (Sign in with SSO) or with GitHub.\n\n"
        "Sign in here:\n$link",
        paragraphs=(
            "Hello $name,",
            "someone (we hope you) asked to reset the password of your Provenant account. It has none: it signs "
            "in through your organization's single sign-on (Sign in with SSO) or with GitHub.",
        ),
        button="Sign in",
    ),
    "password_changed": _Email(
        subject="Your Provenant password was changed",
        text="Hello $name,\n\nthe password of your Provenant account ($email) was changed, and every browser "
        "signed in as you was signed out.\n\nIf this was not you, reset your password at once from the sign-in "
        "page, or ask an OWNER or ADMIN of your organization to issue you a reset link.",
        paragraphs=(
            "Hello $name,",
            "the password of your Provenant account ($email) was changed, and every browser signed in as you "
            "was signed out.",
            "If this was not you, reset your password at once from the sign-in page, or ask an OWNER or ADMIN "
            "of your organization to issue you a reset link.",
        ),
    ),
    "member_password_reset_issued": _Email(
        subject="A password reset link was issued for your Provenant account",
        text="Hello $name,\n\n$issuer_name issued a link to reset the password of your Provenant account "
        "($email) in $org_name. It works once, for one hour, and was shown only to them.\n\n"
        "If you did not ask for it, tell them, or another OWNER of $org_name.",
        paragraphs=(
            "Hello $name,",
            "$issuer_name issued a link to reset the password of your Provenant account ($email) in "
            "<strong>$org_name</strong>. It works once, for one hour, and was shown only to them.",
            "If you did not ask for it, tell them, or another OWNER of $org_name.",
        ),
    ),
    "key_exposed_revoked": _Email(
        subject="Your API key $key_name was reported exposed and revoked",
        text="Hello $name,\n\nyour API key $key_name ($key_prefix) in $org_name was reported exposed (found "
        "where it should not be, such as a public repository) and has been revoked: requests with it are refused."
        "\n\nCreate a new key for whatever used it, and keep it out of code and logs:\n$link",
        paragraphs=(
            "Hello $name,",
            "your API key <strong>$key_name</strong> (<code>$key_prefix</code>) in $org_name was reported exposed "
            "(found where it should not be, such as a public repository) and has been revoked: requests with it "
            "are refused.",
            "Create a new key for whatever used it, and keep it out of code and logs.",
        ),
        button="Open API Keys",
    ),
    "key_expiring": _Email(
        subject="Your API key $key_name expires on $expires_at",
        text="Hello $name,\n\nyour API key $key_name ($key_prefix) in $org_name expires on $expires_at. "
        "Requests with it will be refused from then on.\n\nRoll it (a new key with the same name and access) "
        "before then:\n$link",
        paragraphs=(
            "Hello $name,",
            "your API key <strong>$key_name</strong> (<code>$key_prefix</code>) in $org_name expires on "
            "$expires_at. Requests with it will be refused from then on.",
            "Roll it (a new key with the same name and access) before then.",
        ),
        button="Open API Keys",
    ),
    "two_factor_enabled": _Email(
        subject="Two-factor sign-in was turned on for your Provenant account",
        text="Hello $name,\n\ntwo-factor sign-in was turned on for your Provenant account ($email).\n\n"
        "If this was not you, reset your password at once and ask an OWNER or ADMIN of your organization for help.",
        paragraphs=(
            "Hello $name,",
            "two-factor sign-in was turned on for your Provenant account ($email).",
            "If this was not you, reset your password at once and ask an OWNER or ADMIN of your organization for help.",
        ),
    ),
    "two_factor_disabled": _Email(
        subject="Two-factor sign-in was turned off for your Provenant account",
        text="Hello $name,\n\ntwo-factor sign-in was turned off for your Provenant account ($email): a password "
        "alone now signs in.\n\nIf this was not you, reset your password at once and ask an OWNER or ADMIN of "
        "your organization for help.",
        paragraphs=(
            "Hello $name,",
            "two-factor sign-in was turned off for your Provenant account ($email): a password alone now signs in.",
            "If this was not you, reset your password at once and ask an OWNER or ADMIN of your organization for help.",
        ),
    ),
}

_PAGE = Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>$subject</title></head>
<body style="margin:0;padding:24px;background:#f4f5f7;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;\
color:#1f2937;font-size:15px;line-height:1.5">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border:1px solid #e5e7eb;border-radius:8px;padding:28px">
<p style="margin:0 0 20px;font-weight:600;font-size:17px">Provenant</p>
$body
</div></body></html>
"""
)


def render(template: str, context: dict[str, str]) -> Rendered:
    """The email ``template`` says with ``context``; KeyError names a missing value or an unknown template."""
    email = _TEMPLATES[template]
    values = {name: str(value) for name, value in context.items()}
    escaped = {name: html.escape(value, quote=True) for name, value in values.items()}
    # One line: a name with a line break in it must not add a header.
    subject = " ".join(Template(email.subject).substitute(values).split())
    text = Template(email.text).substitute(values) + _SIGN_OFF
    parts = [f'<p style="margin:0 0 14px">{Template(p).substitute(escaped)}</p>' for p in email.paragraphs]
    if email.button:
        link = escaped["link"]
        parts.append(
            f'<p style="margin:22px 0"><a href="{link}" style="background:#2563eb;color:#ffffff;padding:10px 18px;'
            f'border-radius:6px;text-decoration:none;display:inline-block">{html.escape(email.button)}</a></p>'
            f'<p style="margin:0;font-size:13px;color:#6b7280">Or open this address: {link}</p>'
        )
    body = _PAGE.substitute(subject=html.escape(subject), body="\n".join(parts))
    return Rendered(subject=subject, text=text, html=body)
