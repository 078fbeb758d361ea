"""What a registered agent keeps on disk: its key (owner-only), its certificate, where the
cloud is."""

from __future__ import annotations

import datetime as dt
import json
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hybridsync.errors import ConfigError
from hybridsync.pta_protocol import ASSERTION_AUDIENCE

ASSERTION_SECONDS = 120


@dataclass(frozen=True, slots=True)
class AgentState:
    """A registered agent: where its files are, the cloud and tenant it serves, its id."""

    directory: Path
    cloud_url: str
    tenant: str
    agent_id: str
    ca_file: Path | None

    @property
    def key_path(self) -> Path:
        return self.directory / "agent-key.pem"

    @property
    def certificate_path(self) -> Path:
        return self.directory / "agent-cert.pem"

    def private_key(self) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError(f"{self.key_path}: not an RSA private key")
        return key

    def assertion(self, key: rsa.RSAPrivateKey) -> str:
        """A short-lived JWT signed with the agent's key: how it authenticates each call."""
        now = dt.datetime.now(dt.UTC)
        claims = {
            "iss": self.agent_id,
            "sub": self.agent_id,
            "aud": ASSERTION_AUDIENCE,
            "iat": now,
            "exp": now + dt.timedelta(seconds=ASSERTION_SECONDS),
        }
        return jwt.encode(claims, key, algorithm="RS256")

    def save(self) -> None:
        document = {
            "cloud_url": self.cloud_url,
            "tenant": self.tenant,
            "agent_id": self.agent_id,
            "ca_file": str(self.ca_file) if self.ca_file else None,
        }
        (self.directory / "agent.json").write_text(json.dumps(document, indent=2) + "\n")


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificates verified, hostnames checked: against ``ca_file``, else the system store."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def load_state(directory: Path) -> AgentState:
    path = directory / "agent.json"
    try:
        document = json.loads(path.read_text())
        return AgentState(
            directory,
            str(document["cloud_url"]),
            str(document["tenant"]),
            str(document["agent_id"]),
            Path(document["ca_file"]) if document.get("ca_file") else None,
        )
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: not found; run 'hybridsync agent register' first") from exc
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{path}: not a valid agent state file ({exc})") from exc


def write_private_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(pem)
