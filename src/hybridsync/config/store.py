"""``store``: where the engine keeps its state, a SQLite file or a PostgreSQL database.

Examples (TOML)::

    store = "hybridsync.db"                       # SQLite (the default)
    store = "postgresql+psycopg://hybridsync@db.corp.contoso.com/hybridsync"

    [store]                                       # the same, with every option
    url = "postgresql+psycopg://hybridsync@db.corp.contoso.com/hybridsync"
    password_env = "HYBRIDSYNC_STORE_PASSWORD"    # or password_file = "/etc/hybridsync/db.secret"
    ca_file = "/etc/hybridsync/db-ca.pem"         # default: the system's trust store
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

from hybridsync.errors import ConfigError, StoreError

__all__ = ["DEFAULT_PASSWORD_ENV", "StoreConfig"]

DEFAULT_PASSWORD_ENV = "HYBRIDSYNC_STORE_PASSWORD"
"""Read for a PostgreSQL store that names neither password_env nor password_file."""


class StoreConfig(BaseModel):
    """A SQLite file (``path``) or a PostgreSQL database (``url`` and how to log in)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path | None = None
    url: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str | Path):
            text = str(data)
            return {"url": text} if "://" in text else {"path": text}
        if isinstance(data, dict) and data.get("url") is None and data.get("path") is None:
            return {**data, "path": "hybridsync.db"}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> StoreConfig:
        if self.url is None:
            if self.password_env or self.password_file or self.ca_file:
                raise ValueError("password_env, password_file and ca_file need a url")
            return self
        if self.path is not None:
            raise ValueError("give either path (SQLite) or url (PostgreSQL), not both")
        if self.password_env is not None and self.password_file is not None:
            raise ValueError("give at most one of password_env and password_file")
        # Checked only for a PostgreSQL store: the check loads SQLAlchemy.
        from hybridsync.store.postgres import postgresql_url

        try:
            postgresql_url(self.url)
        except StoreError as exc:
            raise ValueError(str(exc)) from None
        return self

    def password(self) -> SecretStr | None:
        """The PostgreSQL password: from its file, its variable, else none (peer, cert)."""
        if self.password_file is not None:
            try:
                value = self.password_file.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ConfigError(
                    f"cannot read the store password file: {exc.strerror}",
                    source=str(self.password_file),
                ) from None
            if not value:
                raise ConfigError(
                    "the store password file is empty", source=str(self.password_file)
                )
            return SecretStr(value)
        variable = self.password_env or DEFAULT_PASSWORD_ENV
        secret = os.environ.get(variable)
        if not secret:
            if self.password_env is not None:
                raise ConfigError(f"environment variable {variable} is not set or empty")
            return None
        return SecretStr(secret)
