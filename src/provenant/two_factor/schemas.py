from typing import Annotated

from pydantic import Field

from provenant.accounts.schemas import PresentedPassword
from provenant.schemas import ApiModel, ReadModel

# A TOTP code ("123456", "123 456") or a recovery code ("abcd-efgh-ijkl"); anything longer is no code.
Code = Annotated[str, Field(min_length=1, max_length=64)]


class TotpSetupRead(ReadModel):
    secret: str
    otpauth_uri: str
    # The URI as a QR code, an SVG data: URI for an <img>.
    qr_code: str


class CodeConfirmation(ApiModel):
    code: Code


class PasswordConfirmation(ApiModel):
    password: PresentedPassword


class RecoveryCodesRead(ReadModel):
    recovery_codes: list[str]


class SecondStep(ApiModel):
    mfa_token: Annotated[str, Field(min_length=1, max_length=2048)]
    code: Code
