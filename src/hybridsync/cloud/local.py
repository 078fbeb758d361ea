"""A cloud directory kept in one data directory: database, master key, local TLS files.

::

    <data-dir>/                owner-only (0700)
    <data-dir>/cloud.db        SQLite database (WAL), owner-only (0600) like its -wal/-shm files
    <data-dir>/master.key      encrypts token-signing keys (owner-only permissions)
    <data-dir>/tls/            local CA and server certificate, generated on first serve
    <data-dir>/smtp.toml       optional: the SMTP relay for email one-time passcodes
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from hybridsync.cloud.errors import CloudSetupError
from hybridsync.cloud.mail import SMTP_FILE, load_smtp_settings
from hybridsync.cloud.service import CloudSettings
from hybridsync.cloud.throttle import RateLimits, ThrottleSettings

MASTER_KEY = "master.key"
DATABASE = "cloud.db"


def initialize(data_dir: Path) -> None:
    """Create the data directory (0700) and its master key (0600); never overwrites one."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_path = data_dir / MASTER_KEY
    if key_path.exists():
        raise CloudSetupError(f"{data_dir} already holds a cloud directory")
    data_dir.chmod(0o700)  # also when it existed (empty) before: it will hold secrets
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(32))


def settings_for(
    data_dir: Path,
    *,
    database_url: str | None = None,
    public_url: str | None = None,
    throttle: ThrottleSettings | None = None,
    rate_limits: RateLimits | None = None,
) -> CloudSettings:
    key_path = data_dir / MASTER_KEY
    if not key_path.exists():
        raise CloudSetupError(
            f"{data_dir} holds no cloud directory: run 'hybridsync cloud init' first"
        )
    return CloudSettings(
        database_url=database_url or f"sqlite:///{data_dir / DATABASE}",
        master_key=SecretStr(key_path.read_text().strip()),
        public_url=public_url,
        rate_limits=rate_limits or RateLimits(),
        throttle=throttle,
        smtp=load_smtp_settings(data_dir / SMTP_FILE),
    )
