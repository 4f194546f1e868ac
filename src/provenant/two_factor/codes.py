"""The codes of two-factor sign-in, as pure functions: TOTP (RFC 6238, by pyotp) and recovery codes.

- TOTP: SHA-1, 6 digits, 30-second steps, as every authenticator app reads an ``otpauth://`` URI. A code
  is accepted for the step before, the current one and the one after (a clock off by up to 30 s); which step
  matched is returned, so that the caller can refuse any code of that step or an earlier one afterwards.
- Recovery codes: 12 characters of the RFC 4648 base32 alphabet (60 bits from the CSPRNG), shown as
  ``xxxx-xxxx-xxxx``; typed in any case, with or without the dashes and spaces.
"""

import hmac
import re
import secrets
from datetime import datetime

import pyotp

ISSUER = "Provenant"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_RECOVERY_LENGTH = 12  # x 5 bits = 60 bits
_TOTP_CODE = re.compile(r"[0-9]{6}")  # not \d, which matches any script's digits
_RECOVERY_CODE = re.compile(f"[{_RECOVERY_ALPHABET}]{{{_RECOVERY_LENGTH}}}")


def new_totp_secret() -> str:
    """160 random bits in base32, the length RFC 4226 recommends for the shared secret."""
    return pyotp.random_base32(32)


def otpauth_uri(secret: str, *, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_code(uri: str) -> str:
    """The URI as a QR code: an SVG ``data:`` URI, which the dashboard shows in an <img> (its CSP allows
    ``img-src data:``; nothing in it runs)."""
    import segno  # here, not at the top: only a setup needs it, and importing it cost every server start ~40 ms

    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def compact(code: str) -> str:
    """A code as typed, without the spaces and dashes people add (``123 456``, ``abcd-efgh-ijkl``)."""
    return re.sub(r"[\s-]", "", code).lower()


def is_totp_code(code: str) -> bool:
    return _TOTP_CODE.fullmatch(compact(code)) is not None


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is, within the drift allowed around ``now``; None if none."""
    typed = compact(code)
    if _TOTP_CODE.fullmatch(typed) is None:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    matched = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):  # every step compared, in constant time
        if hmac.compare_digest(totp.generate_otp(step), typed):
            matched = step
    return matched


def new_recovery_codes() -> list[str]:
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH)) for _ in range(RECOVERY_CODE_COUNT)
    ]
    return [f"{code[:4]}-{code[4:8]}-{code[8:]}" for code in codes]


def recovery_code_or_none(code: str) -> str | None:
    """The recovery code ``code`` names, in the one form that is hashed; None if it cannot be one."""
    typed = compact(code)
    return typed if _RECOVERY_CODE.fullmatch(typed) else None
