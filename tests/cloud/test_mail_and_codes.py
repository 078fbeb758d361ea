"""The SMTP relay setting and the one-time passcodes, piece by piece: the relay's file is
read with clear errors, the password never shows, codes expire, work once, die after
too many tries, and are not stored as themselves."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.cloud.mailbox import Mailbox
from tests.support.cloud_server import CloudServer

from hybridsync.cloud.errors import CloudSetupError
from hybridsync.cloud.mail import MailError, SmtpSettings, load_smtp_settings, send
from hybridsync.cloud.signin.otp import (
    CODE_LIFETIME,
    MAX_ATTEMPTS,
    OneTimePasscodes,
    otp_codes,
)


def test_the_relay_file_is_read_with_paths_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "smtp.toml").write_text(
        'host = "smtp.contoso.com"\nsender = "no-reply@contoso.com"\n'
        'username = "relay"\npassword_file = "relay.secret"\n',
        "utf-8",
    )
    (tmp_path / "relay.secret").write_text("s3cret\n", "utf-8")
    settings = load_smtp_settings(tmp_path / "smtp.toml")
    assert settings is not None
    assert (settings.port, settings.security) == (587, "starttls")
    assert settings.password() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert load_smtp_settings(tmp_path / "missing.toml") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('host = "h"\nsender = "a@b.c"\nsecurity = "ssl"\n', "security"),
        ('host = "h"\n', "sender"),
        ('host = "h"\nsender = "a@b.c"\npasword_file = "x"\n', "pasword_file"),
        ("host = \n", "smtp.toml"),
        ('host = "h"\nsender = "a@b.c"\nsecurity = "none"\nusername = "u"\n', "credentials"),
        ('host = "smtp.contoso.com"\nsender = "a@b.c"\nsecurity = "none"\n', "loopback"),
        ('host = "10.0.0.1"\nsender = "a@b.c"\nsecurity = "none"\n', "10.0.0.1"),
    ],
)
def test_a_bad_relay_file_names_the_file_and_the_setting(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "smtp.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(CloudSetupError, match=message) as caught:
        load_smtp_settings(path)
    assert str(path) in str(caught.value)


def test_security_none_is_for_a_loopback_relay(tmp_path: Path) -> None:
    for host in ("localhost", "127.0.0.1", "::1"):
        (tmp_path / "smtp.toml").write_text(
            f'host = "{host}"\nsender = "a@b.c"\nsecurity = "none"\n', "utf-8"
        )
        settings = load_smtp_settings(tmp_path / "smtp.toml")
        assert settings is not None
        assert settings.security == "none"


def test_the_ca_file_is_read_relative_to_the_relay_file(
    mailbox: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = mailbox.smtp_settings()
    assert relay.ca_file is not None
    assert relay.password_file is not None
    (tmp_path / "relay-ca.pem").write_bytes(relay.ca_file.read_bytes())
    (tmp_path / "relay.secret").write_bytes(relay.password_file.read_bytes())
    (tmp_path / "smtp.toml").write_text(
        f'host = "127.0.0.1"\nport = {relay.port}\nsender = "no-reply@contoso.example"\n'
        f'username = "{relay.username}"\npassword_file = "relay.secret"\n'
        'ca_file = "relay-ca.pem"\n',
        "utf-8",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the service's working directory is not the data directory
    settings = load_smtp_settings(tmp_path / "smtp.toml")
    assert settings is not None
    assert settings.ca_file == tmp_path / "relay-ca.pem"
    send(settings, "ca@fabrikam.example", "subject", "text")  # the relay's certificate is trusted
    assert len(mailbox.sent_to("ca@fabrikam.example")) == 1


def test_a_missing_password_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HYBRIDSYNC_TEST_SMTP_PASSWORD", raising=False)
    settings = SmtpSettings(host="h", sender="a@b.c", password_env="HYBRIDSYNC_TEST_SMTP_PASSWORD")
    with pytest.raises(MailError, match="HYBRIDSYNC_TEST_SMTP_PASSWORD"):
        settings.password()


def test_a_refused_login_says_so_without_the_password(mailbox: Mailbox, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.secret"
    wrong.write_text("not-the-password", "utf-8")
    # (aiosmtpd leaves smtplib's last login attempt unanswered: a short wait bounds it)
    update = {"password_file": wrong, "timeout_seconds": 1.0}
    settings = mailbox.smtp_settings().model_copy(update=update)
    with pytest.raises(MailError) as caught:
        send(settings, "someone@fabrikam.example", "subject", "text")
    assert "did not accept" in str(caught.value)
    assert "not-the-password" not in str(caught.value)
    assert mailbox.sent_to("someone@fabrikam.example") == []


def test_without_starttls_the_relay_refuses_and_nothing_leaves(mailbox: Mailbox) -> None:
    # (model_copy skips validation: a relay that wants TLS refuses a plain session anyway)
    settings = mailbox.smtp_settings().model_copy(update={"security": "none", "username": None})
    with pytest.raises(MailError):
        send(settings, "plain@fabrikam.example", "subject", "text")
    assert mailbox.sent_to("plain@fabrikam.example") == []


@pytest.fixture
def codes(cloud_server: CloudServer) -> OneTimePasscodes:
    return OneTimePasscodes(cloud_server.service.db, secrets.token_urlsafe(32))


def _ids() -> tuple[str, str]:
    return secrets.token_hex(8), secrets.token_hex(8)


def test_a_code_works_once_and_is_stored_keyed(codes: OneTimePasscodes) -> None:
    tenant, user = _ids()
    code = codes.issue(tenant, user, "signin")
    assert code is not None
    assert len(code) == 8
    assert code.isdigit()
    with codes.db.read() as conn:
        stored = conn.execute(sa.select(otp_codes.c.digest).where(otp_codes.c.user_id == user))
        digest = stored.scalar_one()
    assert code not in digest
    assert not codes.check(tenant, user, "redeem:x", code)  # another purpose
    assert codes.check(tenant, user, "signin", code)
    assert not codes.check(tenant, user, "signin", code)


def test_a_code_dies_after_the_last_wrong_try(codes: OneTimePasscodes) -> None:
    tenant, user = _ids()
    code = codes.issue(tenant, user, "signin")
    assert code is not None
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    for _ in range(MAX_ATTEMPTS - 1):
        assert not codes.check(tenant, user, "signin", wrong)
    assert codes.check(tenant, user, "signin", code)  # still alive before the last try
    code = codes.issue(tenant, user, "signin")  # the used one is gone: a new one at once
    assert code is not None
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    for _ in range(MAX_ATTEMPTS):
        assert not codes.check(tenant, user, "signin", wrong)
    assert not codes.check(tenant, user, "signin", code)


def test_an_expired_code_is_refused_and_a_new_one_waits_a_moment(
    codes: OneTimePasscodes,
) -> None:
    tenant, user = _ids()
    code = codes.issue(tenant, user, "signin")
    assert code is not None
    assert codes.issue(tenant, user, "signin") is None  # no second mail right away
    past = dt.datetime.now(dt.UTC) - CODE_LIFETIME - dt.timedelta(seconds=1)
    with codes.db.write() as conn:
        conn.execute(sa.update(otp_codes).where(otp_codes.c.user_id == user).values(issued=past))
    assert not codes.check(tenant, user, "signin", code)
    again = codes.issue(tenant, user, "signin")
    assert again is not None


def test_an_address_belongs_to_one_user(codes: OneTimePasscodes) -> None:
    tenant, first = _ids()
    second = secrets.token_hex(8)
    assert codes.register_user(tenant, first, "Kim@Fabrikam.example")
    assert codes.user_for_email(tenant, " kim@fabrikam.EXAMPLE ") == first
    assert not codes.register_user(tenant, second, "kim@fabrikam.example")
    assert codes.user_for_email(tenant, "kim@fabrikam.example") == first
    assert codes.register_user(tenant, first, "kim@northwind.example")  # a new address
    assert codes.user_for_email(tenant, "kim@fabrikam.example") is None
    assert codes.email_of(tenant, first) == "kim@northwind.example"


def test_line_breaks_in_a_header_value_never_start_another_header(mailbox: Mailbox) -> None:
    to = "headers@fabrikam.example"
    send(mailbox.smtp_settings(), to, "Your Contoso\r\nBcc: victim@evil.example code", "text")
    message = mailbox.wait_for(to)
    assert message["Subject"] == "Your Contoso Bcc: victim@evil.example code"
    assert message["Bcc"] is None


def test_an_address_the_mail_package_refuses_is_a_mail_error(mailbox: Mailbox) -> None:
    with pytest.raises(MailError, match="cannot be written"):
        # An encoded word that decodes to a line break: refused by the email package itself.
        send(mailbox.smtp_settings(), "=?utf-8?q?a=0Ab?=@fabrikam.example", "subject", "text")
