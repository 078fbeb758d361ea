"""Settings of the DRSR hash reader: which DC, and the account that may replicate secrets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hybridsync.errors import ConfigError

__all__ = ["DrsrSettings", "ExtendedOperation", "password_from"]


class ExtendedOperation(StrEnum):
    """The single-object extended operation of ``DRSGetNCChanges`` used to read a user."""

    AUTO = "auto"
    """EXOP_REPL_SECRETS; EXOP_REPL_OBJ when the DC refuses it (Samba grants
    EXOP_REPL_SECRETS only to DCs and administrators, EXOP_REPL_OBJ to any account with
    both replication rights)."""
    REPL_SECRETS = "repl-secrets"
    REPL_OBJ = "repl-obj"


class DrsrSettings(BaseModel):
    """Where and as whom to read NT hashes over MS-DRSR.

    The account needs "Replicating Directory Changes" and "Replicating Directory Changes
    All" on the domain root, nothing more. The password is a ``SecretStr``: it never
    shows in ``repr``, logs or error messages.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1, description="DC address or name (ports 135 and DRSUAPI's)")
    domain: str = Field(min_length=1, description="the domain's DNS name, e.g. corp.contoso.com")
    username: str = Field(min_length=1, description="sAMAccountName of the sync account")
    password: SecretStr
    timeout: float = Field(default=30.0, gt=0, description="seconds per network operation")
    extended_operation: ExtendedOperation = ExtendedOperation.AUTO

    @property
    def account(self) -> str:
        """``DOMAIN\\user`` for messages."""
        return f"{self.domain}\\{self.username}"


def password_from(
    *,
    env: str | None = None,
    file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> SecretStr:
    """Read the sync account's password from an environment variable or a file.

    A file's trailing newline is dropped. Exactly one source must be given.

    Raises:
        ConfigError: no source, both sources, or the source is missing or empty (the
            message names the source, never the value).
    """
    if (env is None) == (file is None):
        raise ConfigError("give the DRSR account password as exactly one of env or file")
    if env is not None:
        value = (os.environ if environ is None else environ).get(env)
        if not value:
            raise ConfigError(f"environment variable {env} is not set or empty", source=env)
        return SecretStr(value)
    assert file is not None
    try:
        value = file.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the password file: {exc.strerror}", source=str(file)
        ) from exc
    if not value:
        raise ConfigError("the password file is empty", source=str(file))
    return SecretStr(value)
