"""``[password_hash_sync]``: password hash sync for one AD connector into one cloud connector."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["PasswordHashSyncConfig"]


class PasswordHashSyncConfig(BaseModel):
    """Which connectors, how often, and the DC account that reads hashes over MS-DRSR.

    Example::

        [password_hash_sync]
        source = "corp"            # the AD connector whose users' hashes are synced
        target = "cloud"           # a graph connector with target = "hybridsync"
        dc_host = "dc1.corp.contoso.com"
        domain = "corp.contoso.com"
        username = "svc-phs"       # holds only the two replication rights
        password_env = "HYBRIDSYNC_PHS_PASSWORD"
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    interval_seconds: float = Field(default=120.0, ge=5)
    """Entra Connect's PHS cycle runs every 2 minutes, apart from the object cycle."""
    dc_host: str = Field(min_length=1)
    domain: str = Field(min_length=1)
    username: str = Field(min_length=1)
    password_env: str | None = None
    password_file: Path | None = None
    extended_operation: str = "auto"
    timeout_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _one_password_source(self) -> PasswordHashSyncConfig:
        if (self.password_env is None) == (self.password_file is None):
            raise ValueError("give exactly one of password_env and password_file")
        return self
