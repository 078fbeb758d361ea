"""Mail the cloud directory sends (email one-time passcodes) through a configured SMTP relay.

The relay is a setting of the directory: ``<data-dir>/smtp.toml`` for ``hybridsync cloud
serve``::

    host = "smtp.contoso.com"
    port = 587
    security = "starttls"          # "starttls" (default), "tls" (implicit, port 465),
                                   # or "none" (a loopback relay only)
    sender = "no-reply@contoso.com"
    username = "relay-user"        # optional: no login without it
    password_file = "smtp.secret"  # or password_env = "HYBRIDSYNC_SMTP_PASSWORD"

The password is read when a message is sent, from the file or the environment variable,
and is never stored in the settings, logged, or shown in an error.
"""

from __future__ import annotations

import ipaddress
import os
import smtplib
import ssl
import tomllib
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hybridsync.cloud.errors import CloudError, CloudSetupError

log = structlog.get_logger(__name__)
SMTP_FILE = "smtp.toml"


class MailError(CloudError):
    """The relay refused the message or could not be reached (the message names no secret)."""


class SmtpSettings(BaseModel):
    """Where and how the directory hands its mail over.

    Attributes:
        host, port: the relay.
        security: ``starttls`` upgrades a plain connection; ``tls`` speaks TLS from the
            start; ``none`` sends in the clear (loopback relays only).
        sender: the ``From`` address.
        username: log in as this user (with the password below) when set.
        password_file: a file holding the password (relative to the settings file).
        password_env: an environment variable holding the password.
        ca_file: trust this CA for the relay's certificate instead of the system's
            (relative to the settings file).
        timeout_seconds: how long to wait for the relay.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    sender: str = Field(min_length=3)
    username: str | None = None
    password_file: Path | None = None
    password_env: str | None = None
    ca_file: Path | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @model_validator(mode="after")
    def _credentials_need_tls(self) -> SmtpSettings:
        if self.security == "none" and self.username is not None:
            raise ValueError('a username (credentials) needs security "starttls" or "tls"')
        if self.security == "none" and not _is_loopback(self.host):
            raise ValueError(
                f'security "none" sends in the clear: only a loopback relay (localhost,'
                f" 127.0.0.1, ::1) may use it, not {self.host!r}"
            )
        return self

    def password(self) -> str | None:
        if self.password_file is not None:
            try:
                return self.password_file.read_text("utf-8").strip()
            except OSError as exc:
                raise MailError(f"cannot read the SMTP password file {self.password_file}") from exc
        if self.password_env is not None:
            value = os.environ.get(self.password_env)
            if value is None:
                raise MailError(f"the environment variable {self.password_env} is not set")
            return value
        return None


def load_smtp_settings(path: Path) -> SmtpSettings | None:
    """The relay configured in ``path`` (None when the file does not exist)."""
    if not path.exists():
        return None
    try:
        document = tomllib.loads(path.read_text("utf-8"))
        settings = SmtpSettings.model_validate(document)
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise CloudSetupError(f"{path}: {_first_problem(exc)}") from exc
    beside = {
        name: path.parent / value
        for name in ("password_file", "ca_file")
        if (value := getattr(settings, name)) is not None and not value.is_absolute()
    }
    return settings.model_copy(update=beside) if beside else settings


def _is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _first_problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "(file)"
        return f"{where}: {error['msg']}"
    return str(exc)


def send(settings: SmtpSettings, to: str, subject: str, text: str) -> None:
    """Hand one plain-text message to the relay; ``MailError`` when it is not accepted."""
    message = EmailMessage()
    try:
        message["From"] = _one_line(settings.sender)
        message["To"] = _one_line(to)
        message["Subject"] = _one_line(subject)
    except ValueError as exc:  # a header the email package cannot write, e.g. a bad address
        raise MailError(f"the message to {to!r} cannot be written: {exc}") from None
    message.set_content(text)
    try:
        with _connect(settings) as relay:
            password = settings.password()
            if settings.username is not None and password is not None:
                relay.login(settings.username, password)
            relay.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        # The exception's text may quote the relay's answer to a login: never show it.
        raise MailError(
            f"the SMTP relay {settings.host}:{settings.port} did not accept the message"
            f" ({type(exc).__name__})"
        ) from None
    log.info("mail.sent", relay=settings.host, recipient_domain=to.rpartition("@")[2])


def _one_line(value: str) -> str:
    # A line break in a header value (a tenant's display name in the subject, say) would
    # start another header: the email package refuses it, and it must never get through.
    return " ".join(value.splitlines())


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    if settings.security == "tls":
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout_seconds, context=context
        )
    relay = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
    if settings.security == "starttls":
        relay.starttls(context=context)
    return relay
