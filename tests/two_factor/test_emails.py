"""Emails "two-factor sign-in was turned on/off", through the outbox and a real SMTP server; none carries a secret."""

from fastapi.testclient import TestClient

from tests.email.mailbox import Mailbox, mail_client, mailbox, text_of
from tests.factories import PASSWORD, register, turn_on_two_factor

__all__ = ["mail_client", "mailbox"]  # fixtures


def test_turning_two_factor_on_and_off_is_emailed_without_its_secrets(
    mail_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    owner = register(mail_client, name="Ada")
    two_factor = turn_on_two_factor(mail_client, owner)
    [on] = mailbox[0].wait_for(1, to=owner.email)
    off = mail_client.request("DELETE", "/api/auth/2fa", json={"password": PASSWORD}, headers=owner.headers)
    assert off.status_code == 204
    [_, turned_off] = mailbox[0].wait_for(2, to=owner.email)

    for message in (on, turned_off):
        text = text_of(message)
        assert two_factor.secret not in text and not any(code in text for code in two_factor.recovery_codes)
    assert on["Subject"] != turned_off["Subject"]
    assert "on" in on["Subject"].lower() and "off" in turned_off["Subject"].lower()
