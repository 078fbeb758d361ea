"""The AD connector's configuration, validated at the edge (pydantic).

The bind password is never part of the configuration text: it is read from an
environment variable or a file named here, and held as a ``SecretStr``.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from hybridsync.connectors.ad.scope import is_under, normalize_dn
from hybridsync.errors import ConfigError

__all__ = ["DEFAULT_ATTRIBUTES", "ADSettings", "DeltaMode"]

DEFAULT_ATTRIBUTES: tuple[str, ...] = (
    "objectGUID", "distinguishedName", "objectSid", "mS-DS-ConsistencyGuid", "objectClass",
    "sAMAccountName", "userPrincipalName", "cn", "displayName", "givenName", "sn",
    "mail", "proxyAddresses", "mailNickname", "department", "title", "company",
    "employeeID", "employeeType", "c", "telephoneNumber", "manager",
    "extensionAttribute1", "userAccountControl", "isCriticalSystemObject",
    "adminDescription", "description", "member", "groupType",
)  # fmt: skip
"""What the built-in AD rules read; ``attributes`` in the config adds to it."""


class DeltaMode(enum.Enum):
    AUTO = "auto"
    """DirSync when the account may use it, else uSNChanged watermarks."""
    DIRSYNC = "dirsync"
    USN = "usn"


class ADSettings(BaseModel):
    """Everything the AD connector needs to know.

    Example (TOML)::

        [connectors.corp]
        type = "ad"
        url = "ldaps://dc1.corp.contoso.com"
        bind_user = "svc-hybridsync@corp.contoso.com"
        password_env = "HYBRIDSYNC_AD_PASSWORD"
        ca_file = "/etc/hybridsync/corp-ca.pem"
        include_ous = ["OU=Staff,DC=corp,DC=contoso,DC=com"]
        exclude_ous = ["OU=Service Accounts,OU=Staff,DC=corp,DC=contoso,DC=com"]
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^ldaps?://[^/\s]+/?$")
    """``ldaps://host[:port]`` or ``ldap://host[:port]`` (then StartTLS is required)."""
    bind_user: str = Field(min_length=1)
    """A UPN (``svc@corp.contoso.com``) or a DN."""
    password_env: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    """CA certificates to trust; the system store when absent."""
    verify_tls: bool = True
    start_tls: bool = True
    """For ``ldap://`` URLs: upgrade with StartTLS (plain binds are refused anyway)."""
    timeout_seconds: float = Field(default=30.0, gt=0)
    password_check_timeout_seconds: float = Field(default=4.0, gt=0)
    """The pass-through agent's limit on each wait of a password check (TCP connect, TLS
    handshake, each LDAP result). Keep it well below the cloud's pass-through wait (10 s):
    a DC that does not answer then gives the user a "try again later" answer, not a hang."""
    reconnect_attempts: int = Field(default=3, ge=0)
    page_size: int = Field(default=1000, ge=1, le=5000)
    base_dn: str | None = None
    """The domain to read; the server's default naming context when absent."""
    include_ous: tuple[str, ...] = ()
    """Only objects under these DNs (empty: the whole domain)."""
    exclude_ous: tuple[str, ...] = ()
    """Never objects under these DNs, even inside an included OU."""
    object_types: tuple[str, ...] = ("user", "group")
    attributes: tuple[str, ...] = ()
    """Attributes to import in addition to ``DEFAULT_ATTRIBUTES``."""
    delta_mode: DeltaMode = DeltaMode.AUTO
    write_back_consistency_guid: bool = False
    """Copy objectGUID into an empty mS-DS-ConsistencyGuid (needs write permission)."""
    export_ou: str | None = None
    """Turns on export: outbound rules may create, change, rename and delete users and
    groups in this OU (rules read it as ``%ExportOU%``). Adds, moves and deletes outside
    it are refused, so the account needs rights on this OU only. It must lie inside
    ``include_ous`` (when given), so that the next import sees, and confirms, what was
    written."""
    smart_card_required: bool = False
    """Users created by the export get "smart card is required for interactive logon"
    (userAccountControl 0x40000): nobody can sign in with their generated password."""
    member_chunk: int = Field(default=500, ge=1, le=5000)
    """Most member values added or removed by one modify request."""

    @model_validator(mode="after")
    def _one_password_source(self) -> ADSettings:
        if (self.password_env is None) == (self.password_file is None):
            raise ValueError("give exactly one of password_env and password_file")
        unknown = set(self.object_types) - {"user", "group"}
        if unknown:
            raise ValueError(f"unsupported object types: {sorted(unknown)}")
        if self.export_ou is not None:
            self._check_export_ou(self.export_ou)
        return self

    def _check_export_ou(self, export_ou: str) -> None:
        parsed = normalize_dn(export_ou)
        if parsed is None or not parsed:
            raise ValueError(f"export_ou {export_ou!r} is not a distinguished name")
        if self.url.startswith("ldap://") and not self.start_tls:
            # AD only takes a password (unicodePwd) over an encrypted connection, and
            # the passwords set on created users must never cross the network in clear.
            raise ValueError(
                "export_ou needs an encrypted connection to set passwords: use an "
                "ldaps:// url, or keep start_tls = true"
            )
        if self.include_ous and not any(is_under(parsed, ou) for ou in self.include_ous):
            raise ValueError(
                f"export_ou {export_ou!r} is outside include_ous: the import would never "
                "see, and so never confirm, the objects it creates"
            )
        if any(is_under(parsed, ou) for ou in self.exclude_ous):
            raise ValueError(f"export_ou {export_ou!r} is inside one of exclude_ous")

    def password(self) -> SecretStr:
        """Read the bind password from its environment variable or file."""
        if self.password_env is not None:
            value = os.environ.get(self.password_env)
            if not value:
                raise ConfigError(f"environment variable {self.password_env} is not set")
            return SecretStr(value)
        assert self.password_file is not None
        try:
            text = self.password_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read password file: {exc}") from exc
        return SecretStr(text.rstrip("\r\n"))

    def all_attributes(self) -> tuple[str, ...]:
        """The inclusion list: defaults, then configured extras, without duplicates."""
        seen: dict[str, str] = {}
        for name in (*DEFAULT_ATTRIBUTES, *self.attributes):
            seen.setdefault(name.lower(), name)
        return tuple(seen.values())
