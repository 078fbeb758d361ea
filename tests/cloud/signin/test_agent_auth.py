"""How an agent proves who it is on each call (over HTTPS), and what that costs: its
certificate is parsed once, not twice per call nor once per call."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.support.cloud_server import CloudTenant
from tests.support.signin import admin_token

from hybridsync.agent.register import register_agent
from hybridsync.agent.state import AgentState
from hybridsync.cloud.signin import agents


@pytest.fixture
def registered(tenant: CloudTenant, tmp_path: Path) -> AgentState:
    return register_agent(
        tmp_path / "agent", cloud_url=tenant.server.base_url, tenant=tenant.id,
        token=admin_token(tenant), ca_file=tenant.server.ca_path, machine_name="auth-test",
    )  # fmt: skip


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every certificate the cloud parses from PEM during the test."""
    seen: list[str] = []
    real: Callable[..., Any] = agents.x509.load_pem_x509_certificate

    def counting(data: bytes, *args: Any) -> Any:
        seen.append(data.decode())
        return real(data, *args)

    agents.certificate_of.cache_clear()
    monkeypatch.setattr(agents.x509, "load_pem_x509_certificate", counting)
    return seen


def _poll(tenant: CloudTenant, assertion: str) -> httpx.Response:
    with tenant.client(assertion) as http:
        return http.get(f"/{tenant.id}/pta/requests", params={"wait": 0})


def test_agent_calls_parse_its_certificate_once(
    tenant: CloudTenant, registered: AgentState, parses: list[str]
) -> None:
    key = registered.private_key()
    answers = [_poll(tenant, registered.assertion(key)).status_code for _ in range(3)]

    assert answers == [204, 204, 204]
    assert parses == [registered.certificate_path.read_text()]


def test_an_assertion_signed_by_another_key_is_refused(
    tenant: CloudTenant, registered: AgentState
) -> None:
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _poll(tenant, registered.assertion(impostor)).status_code == 401
    assert _poll(tenant, registered.assertion(registered.private_key())).status_code == 204
