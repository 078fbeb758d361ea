"""Where the admin address listens, and what protects it.

A loopback address is reachable by the host's users only; any other address must have
TLS (the token would otherwise cross the network in clear) and a bearer token (anyone
who can reach it could otherwise trigger syncs and read the run history).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from hybridsync.errors import HybridsyncError

__all__ = [
    "DEFAULT_ADDRESS",
    "TOKEN_ENV",
    "AdminConfigError",
    "AdminSettings",
    "admin_settings",
    "console_settings",
]

DEFAULT_ADDRESS = "127.0.0.1:8765"
TOKEN_ENV = "HYBRIDSYNC_SERVE_ADMIN_TOKEN"
"""The environment variable holding the bearer token (never an option: a command line is
readable by every user of the host)."""
_MIN_TOKEN_LENGTH = 16


class AdminConfigError(HybridsyncError):
    """The admin address, its TLS files or its token are not usable as given."""


@dataclass(frozen=True, slots=True)
class AdminSettings:
    host: str
    port: int
    certificate: Path | None = None
    private_key: Path | None = None
    token: str | None = None

    @property
    def tls(self) -> bool:
        return self.certificate is not None

    @property
    def loopback(self) -> bool:
        return _loopback(self.host)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def with_port(self, port: int) -> AdminSettings:
        return dataclasses.replace(self, port=port)

    def __repr__(self) -> str:  # the token never appears in a log or a traceback
        return f"AdminSettings(url={self.url!r}, token={'set' if self.token else None})"


def admin_settings(
    address: str,
    certificate: Path | None = None,
    private_key: Path | None = None,
    token_file: Path | None = None,
) -> AdminSettings | None:
    """The settings of ``--admin`` and its companions; ``None`` for ``--admin off``.

    Raises:
        AdminConfigError: naming the option that is wrong and why.
    """
    if address.strip().lower() == "off":
        return None
    host, port = _host_port(address)
    if (certificate is None) != (private_key is None):
        raise AdminConfigError("--admin-cert and --admin-key go together: give both or neither")
    for option, path in (("--admin-cert", certificate), ("--admin-key", private_key)):
        if path is not None and not path.is_file():
            raise AdminConfigError(f"{option} {path}: no such file")
    token = _token(token_file)
    settings = AdminSettings(host, port, certificate, private_key, token)
    if not _loopback(host) and (not settings.tls or token is None):
        raise AdminConfigError(
            f"--admin {address}: an address other than loopback needs TLS (--admin-cert and "
            f"--admin-key) and a bearer token (${TOKEN_ENV} or --admin-token-file)"
        )
    return settings


def console_settings(
    address: str, certificate: Path | None = None, private_key: Path | None = None
) -> AdminSettings | None:
    """The console's own address (``--console``); ``None``: the admin address serves it.

    It serves HTTPS with the admin address's certificate; beyond loopback it must.

    Raises:
        AdminConfigError: naming the option that is wrong and why.
    """
    if address.strip().lower() == "admin":
        return None
    host, port = _host_port(address, "--console", "'admin'")
    settings = AdminSettings(host, port, certificate, private_key)
    if not _loopback(host) and not settings.tls:
        raise AdminConfigError(
            f"--console {address}: an address other than loopback needs TLS "
            "(--admin-cert and --admin-key)"
        )
    return settings


def _host_port(address: str, option: str = "--admin", other: str = "'off'") -> tuple[str, int]:
    host, separator, port_text = address.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not separator or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise AdminConfigError(
            f"{option} {address!r}: not HOST:PORT (e.g. {DEFAULT_ADDRESS}, [::1]:8765) nor {other}"
        )
    return host, int(port_text)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _token(token_file: Path | None) -> str | None:
    if token_file is not None:
        try:
            token = token_file.read_text("utf-8").strip()
        except OSError as exc:
            raise AdminConfigError(
                f"--admin-token-file {token_file}: {exc.strerror or exc}"
            ) from None
        source = f"--admin-token-file {token_file}"
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
        source = f"${TOKEN_ENV}"
        if not token:
            return None
    if len(token) < _MIN_TOKEN_LENGTH:
        raise AdminConfigError(
            f"{source}: the token must have at least {_MIN_TOKEN_LENGTH} characters"
        )
    return token
