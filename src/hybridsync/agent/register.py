"""Registration: make an RSA-2048 key pair, send a CSR with a cloud admin's token, keep the
certificate the cloud issues."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from hybridsync.agent.state import AgentState, tls_context, write_private_key
from hybridsync.errors import ConfigError


def admin_token(
    cloud_url: str, tenant: str, client_id: str, client_secret: str, ca_file: Path | None
) -> str:
    """A client-credentials token of the cloud admin application."""
    answer = httpx.post(
        f"{cloud_url}/{tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": "https://graph.microsoft.com/.default",
        },
        verify=tls_context(ca_file),
    )
    if answer.status_code != 200:
        raise ConfigError(
            f"the admin credential was refused: {answer.json().get('error_description')}"
        )
    return str(answer.json()["access_token"])


def register_agent(
    directory: Path,
    *,
    cloud_url: str,
    tenant: str,
    token: str,
    ca_file: Path | None,
    machine_name: str | None = None,
) -> AgentState:
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    machine = machine_name or socket.gethostname()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, machine)]))
        .sign(key, hashes.SHA256())
    )
    answer = httpx.post(
        f"{cloud_url}/{tenant}/pta/agents",
        json={
            "machineName": machine,
            "csr": csr.public_bytes(serialization.Encoding.PEM).decode(),
        },
        headers={"Authorization": f"Bearer {token}"},
        verify=tls_context(ca_file),
    )
    if answer.status_code != 201:
        message = answer.json().get("error", {}).get("message", answer.text)
        raise ConfigError(f"the cloud refused the registration ({answer.status_code}): {message}")
    body = answer.json()
    state = AgentState(directory, cloud_url, tenant, str(body["id"]), ca_file)
    write_private_key(state.key_path, key)
    state.certificate_path.write_text(str(body["certificate"]))
    state.save()
    return state
