"""Pass-through agents: the private CA that issues their client certificates, and how an
agent proves who it is.

An agent registers with a cloud admin's token and a CSR for an RSA-2048 key it made; the
cloud's CA signs a certificate whose subject names the tenant and the agent. Afterwards the
agent authenticates every call with a short-lived JWT signed by that key (``private_key_jwt``
style, as Entra's certificate credentials), checked against the certificate issued to it.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from hybridsync.cloud.certificates import certificate_builder, self_signed_authority
from hybridsync.cloud.errors import GraphError, unauthenticated
from hybridsync.cloud.keys import utcnow
from hybridsync.cloud.signin.store import SignInStore
from hybridsync.pta_protocol import ASSERTION_AUDIENCE

CERTIFICATE_DAYS = 180
MIN_KEY_BITS = 2048


@dataclass(frozen=True, slots=True)
class Agent:
    """A registered pass-through agent: its tenant, its machine and the key it signs with."""

    id: str
    tenant_id: str
    machine_name: str
    public_key: rsa.RSAPublicKey


@dataclass(frozen=True, slots=True)
class Registration:
    """What a new agent is given: its id, its certificate and the CA that issued it."""

    agent_id: str
    certificate_pem: str
    ca_certificate_pem: str


class AgentRegistry:
    def __init__(self, store: SignInStore, master_key: SecretStr) -> None:
        self._store = store
        self._master = master_key.get_secret_value().encode()
        self._ca: tuple[rsa.RSAPrivateKey, x509.Certificate] | None = None

    def register(self, tenant_id: str, machine_name: str, csr_pem: str) -> Registration:
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except ValueError as exc:
            raise GraphError(
                400, "Request_BadRequest", "csr: not a PEM certificate request."
            ) from exc
        key = csr.public_key()
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_KEY_BITS:
            raise GraphError(
                400, "Request_BadRequest", "csr: the key must be RSA of 2048 bits or more."
            )
        if not csr.is_signature_valid:
            raise GraphError(
                400, "Request_BadRequest", "csr: the signature does not match the key."
            )
        agent_id = str(uuid.uuid4())
        ca_key, ca_cert = self._authority()
        now = utcnow()
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, agent_id),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, tenant_id),
            ]
        )
        certificate = (
            certificate_builder(subject, ca_cert.subject, key, CERTIFICATE_DAYS)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        self._store.add_agent(agent_id, tenant_id, machine_name, pem, now)
        ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM).decode()
        return Registration(agent_id, pem, ca_pem)

    def agents_of(self, tenant_id: str) -> list[Agent]:
        rows = self._store.agents_of(tenant_id)
        return [_agent(row, certificate_of(row.certificate_pem)) for row in rows]

    def authenticate(self, assertion: str) -> Agent:
        """The agent that signed ``assertion``; 401 otherwise."""
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise unauthenticated("Agent assertion is not a JWT.") from exc
        row = self._store.agent(str(unverified.get("iss", "")))
        if row is None:
            raise unauthenticated("Agent is not registered.")
        certificate = certificate_of(row.certificate_pem)
        self._check_issued_by_us(certificate)
        agent = _agent(row, certificate)
        try:
            jwt.decode(
                assertion,
                agent.public_key,
                algorithms=["RS256"],
                audience=ASSERTION_AUDIENCE,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise unauthenticated(f"Agent assertion rejected: {exc}") from exc
        return agent

    def _check_issued_by_us(self, certificate: x509.Certificate) -> None:
        _, ca_cert = self._authority()
        try:
            certificate.verify_directly_issued_by(ca_cert)
        except (ValueError, TypeError) as exc:
            raise unauthenticated("Agent certificate was not issued by this service.") from exc
        if certificate.not_valid_after_utc <= utcnow():
            raise unauthenticated("Agent certificate has expired: register the agent again.")

    def _authority(self) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        if self._ca is None:
            row = self._store.ca_row()
            if row is None:
                self._ca = _new_authority()
                key, cert = self._ca
                self._store.save_ca(
                    key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.BestAvailableEncryption(self._master),
                    ),
                    cert.public_bytes(serialization.Encoding.PEM),
                )
            else:
                loaded = serialization.load_pem_private_key(row.private_pem, password=self._master)
                assert isinstance(loaded, rsa.RSAPrivateKey)
                self._ca = (loaded, x509.load_pem_x509_certificate(row.certificate_pem))
        return self._ca


@functools.lru_cache(maxsize=4096)
def certificate_of(pem: str) -> x509.Certificate:
    """An agent's certificate, parsed once per process: every poll and every sign-in use it."""
    return x509.load_pem_x509_certificate(pem.encode())


def _agent(row: Any, certificate: x509.Certificate) -> Agent:
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)  # the registration accepts RSA keys only
    return Agent(row.id, row.tenant_id, row.machine_name, key)


def encrypt_for(agent: Agent, password: str) -> bytes:
    """RSA-OAEP (SHA-256) of the password for one agent's key."""
    return agent.public_key.encrypt(password.encode("utf-8"), oaep())


def oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def _new_authority() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hybridsync agent CA")])
    return key, self_signed_authority(key, name)
