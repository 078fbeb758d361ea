"""Configuration of the Graph connector (pydantic: this is an edge of the system)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from hybridsync.errors import ConfigError

MICROSOFT_AUTHORITY_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login-us.microsoftonline.com",
    }
)
"""Hosts msal knows; any other authority is used with ``instance_discovery=False``."""


class WriteQuota(BaseModel):
    """At most ``requests`` writes in any window of ``per_seconds`` seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    requests: int = Field(gt=0)
    per_seconds: float = Field(gt=0)


GRAPH_PUBLISHED_WRITE_QUOTAS = (
    # Graph's directory write limits: app + tenant, then tenant across all apps.
    WriteQuota(requests=3000, per_seconds=150),
    WriteQuota(requests=18000, per_seconds=300),
)


class CloudGuests(BaseModel):
    """Import cloud-created guests for ``[guests_to_ad]`` (set by the configuration's
    ``[guests_to_ad]`` entry, not written in a connector's own table)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group: str | None = None
    """A scoping group's object id: its members are marked ``inGuestScopeGroup``."""


class CertificateCredential(BaseModel):
    """A client certificate registered for the application (PEM private key)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    private_key_file: Path
    thumbprint: str = Field(description="SHA-1 thumbprint of the certificate, hex")
    public_certificate_file: Path | None = None


class GraphConfig(BaseModel):
    """Everything the Graph connector needs to reach one tenant.

    The secret is read from ``client_secret_env`` or ``client_secret_file`` (or given
    directly as a :class:`SecretStr`); it is never logged or stored by the connector.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["graph"] = "graph"
    name: str = "cloud"
    base_url: str = "https://graph.microsoft.com/v1.0"
    authority: str = Field(
        description="https URL of the tenant authority, e.g. https://login.microsoftonline.com/<tenant>"
    )
    client_id: str
    client_secret: SecretStr | None = None
    client_secret_env: str | None = None
    client_secret_file: Path | None = None
    certificate: CertificateCredential | None = None
    scope: str = "https://graph.microsoft.com/.default"
    ca_file: Path | None = Field(
        default=None, description="CA bundle to verify the service and the authority with"
    )
    target: Literal["entra", "hybridsync"] = Field(
        default="entra",
        description="'hybridsync' is the project's cloud directory: it also takes the "
        "synced-user markers and onPremises* properties",
    )
    object_types: tuple[Literal["user", "group"], ...] = Field(
        default=("user", "group"),
        description="what the connector imports and exports; groups need the application "
        "to hold Group.ReadWrite.All and GroupMember.ReadWrite.All",
        min_length=1,
    )
    soft_match_upn: bool = False
    cloud_guests: CloudGuests | None = None
    match_before_create: bool = Field(
        default=False,
        description="look every new object up by onPremisesImmutableId before creating it; "
        "by default a create is sent at once and matched only when the directory refuses "
        "it as a duplicate (both Entra ID and the project's directory keep immutable ids "
        "unique), which saves a lookup per 15 creates",
    )
    password_on_create: bool | None = Field(
        default=None,
        description="send a random password on create; default: only for 'entra'",
    )
    write_quotas: tuple[WriteQuota, ...] = GRAPH_PUBLISHED_WRITE_QUOTAS
    batch_size: int = Field(default=20, ge=1, le=20)
    concurrency: int = Field(default=4, ge=1, le=32)
    max_retries: int = Field(default=8, ge=0)
    max_retry_delay: float = Field(default=120.0, gt=0)
    retry_time_limit: float = Field(
        default=300.0,
        gt=0,
        description="seconds one request is retried for at most (all its waits together) "
        "before the run stops",
    )
    timeout: float = Field(default=60.0, gt=0)
    page_size: int = Field(default=999, ge=1, le=999)

    @model_validator(mode="after")
    def _check(self) -> GraphConfig:
        for label, url in (("base_url", self.base_url), ("authority", self.authority)):
            if urlsplit(url).scheme != "https":
                raise ValueError(f"{label} must be an https URL, got {url!r}")
        if "user" not in self.object_types:
            raise ValueError('object_types: "user" is required (groups name users)')
        sources = [self.client_secret, self.client_secret_env, self.client_secret_file]
        given = sum(source is not None for source in sources) + (self.certificate is not None)
        if given != 1:
            raise ValueError(
                "give exactly one credential: client_secret, client_secret_env, "
                "client_secret_file or certificate"
            )
        return self

    @property
    def instance_discovery(self) -> bool:
        """msal's instance discovery only makes sense for Microsoft's own authorities."""
        return urlsplit(self.authority).hostname in MICROSOFT_AUTHORITY_HOSTS

    @property
    def sends_password_on_create(self) -> bool:
        if self.password_on_create is not None:
            return self.password_on_create
        return self.target == "entra"

    def secret(self) -> SecretStr | None:
        """The client secret from wherever it is configured; ``None`` with a certificate.

        Raises:
            ConfigError: the environment variable or file is missing or empty.
        """
        if self.client_secret is not None:
            return self.client_secret
        if self.client_secret_env is not None:
            value = os.environ.get(self.client_secret_env, "")
            if not value:
                raise ConfigError(
                    f"environment variable {self.client_secret_env} holds no client secret",
                    source=f"connector {self.name}",
                )
            return SecretStr(value)
        if self.client_secret_file is not None:
            return SecretStr(_read_secret_file(self.client_secret_file, self.name))
        return None


def _read_secret_file(path: Path, connector: str) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"cannot read client_secret_file: {exc.strerror}", source=str(path)
        ) from exc
    if not value:
        raise ConfigError(f"client_secret_file of connector {connector} is empty", source=str(path))
    return value
