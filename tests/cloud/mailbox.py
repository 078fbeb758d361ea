"""A real SMTP relay on loopback (aiosmtpd): STARTTLS required, login required, every
accepted message kept so a test can read the one-time passcode it carries.

relay = Mailbox.start(directory)   # settings: relay.smtp_settings()
code = relay.code_for("kim@fabrikam.example")   # waits for the message
"""

from __future__ import annotations

import re
import secrets
import socket
import ssl
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hybridsync.cloud.mail import SmtpSettings
from hybridsync.cloud.tls import ensure_local_tls

RELAY_USER = "relay-user"
CODE = re.compile(r"\b(\d{8})\b")


class Mailbox:
    def __init__(self, directory: Path) -> None:
        tls = ensure_local_tls(directory / "tls")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls.certificate, tls.private_key)
        self.ca_file = tls.ca_certificate
        self._password = secrets.token_urlsafe(16)
        self.password_file = directory / "smtp.secret"
        self.password_file.write_text(self._password + "\n", "utf-8")
        self.messages: list[EmailMessage] = []
        self.logins: list[str] = []
        self.changed = threading.Condition()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, tls_context=context, require_starttls=True,
            auth_required=True, authenticator=self._authenticate,
        )  # fmt: skip

    @classmethod
    def start(cls, directory: Path) -> Mailbox:
        box = cls(directory)
        box.controller.start()
        return box

    def _authenticate(
        self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        login = data.login.decode() if isinstance(data, LoginPassword) else ""
        password = data.password.decode() if isinstance(data, LoginPassword) else ""
        self.logins.append(login)
        return AuthResult(success=login == RELAY_USER and password == self._password)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.changed:
            self.messages.append(message)
            self.changed.notify_all()
        return "250 Message accepted for delivery"

    def smtp_settings(self) -> SmtpSettings:
        return SmtpSettings(
            host="127.0.0.1", port=self.port, security="starttls",
            sender="no-reply@contoso.example", username=RELAY_USER,
            password_file=self.password_file, ca_file=self.ca_file,
        )  # fmt: skip

    def sent_to(self, address: str) -> list[EmailMessage]:
        with self.changed:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> EmailMessage:
        """The ``count``-th message to ``address``, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(found := [m for m in self.messages if m["To"] == address]) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"no message #{count} to {address} arrived"
                self.changed.wait(left)
            return found[count - 1]

    def code_for(self, address: str, count: int = 1) -> str:
        body = self.wait_for(address, count).get_content()
        match = CODE.search(body)
        assert match, body
        return match.group(1)

    def stop(self) -> None:
        self.controller.stop()
