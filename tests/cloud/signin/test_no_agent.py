"""Pass-through with no agent present fails within a second (AADSTS80001), over HTTPS: the
cloud knows when each agent's long poll ended, whether the agent stopped or vanished."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from tests.cloud.signin.conftest import PARTNER_PASSWORD, FakeAD, synced_partner
from tests.support.cloud_server import CloudTenant
from tests.support.signin import admin_token, public_client, running_agent

from hybridsync.agent.register import register_agent
from hybridsync.agent.state import AgentState
from hybridsync.cloud.signin.service import signin_of


def _sign_in(tenant: CloudTenant, upn: str) -> tuple[float, dict[str, object]]:
    with tenant.client() as http:
        started = time.monotonic()
        answer = http.post(
            f"/{tenant.id}/oauth2/v2.0/token",
            data={"client_id": public_client(tenant), "grant_type": "password",
                  "username": upn, "password": PARTNER_PASSWORD, "scope": "User.Read"},
        )  # fmt: skip
        elapsed = time.monotonic() - started
    result: dict[str, object] = answer.json()
    return elapsed, result


def _wait_until_present(tenant: CloudTenant, agent_id: str, present: bool) -> None:
    queue = signin_of(tenant.server.service).pta
    deadline = time.monotonic() + 10
    while any(a.id == agent_id for a in queue.connected_agents(tenant.id)) != present:
        assert time.monotonic() < deadline, f"the agent never became present={present}"
        time.sleep(0.01)


@contextmanager
def _raw_poll(tenant: CloudTenant, state: AgentState) -> Iterator[socket.socket]:
    """An agent's long poll on a bare TLS socket, so the test can drop it like a dead agent."""
    url = urlsplit(tenant.server.base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 443
    raw = socket.create_connection((host, port))
    tls = tenant.server.ssl_context().wrap_socket(raw, server_hostname=host)
    assertion = state.assertion(state.private_key())
    tls.sendall(
        f"GET /{tenant.id}/pta/requests?wait=30 HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {assertion}\r\n\r\n".encode()
    )
    try:
        yield tls
    finally:
        tls.close()


def test_a_stopped_agent_is_known_gone_within_a_second(
    tenant: CloudTenant, fake_ad: FakeAD, tmp_path: Path
) -> None:
    upn = str(synced_partner(tenant, fake_ad)["userPrincipalName"])
    with running_agent(tenant, tmp_path / "agent", fake_ad) as runner:
        _, signed_in = _sign_in(tenant, upn)
    agent_id = runner.state.agent_id

    elapsed, refused = _sign_in(tenant, upn)

    assert "access_token" in signed_in
    assert refused["error_codes"] == [80001], refused
    assert elapsed < 1.0
    _wait_until_present(tenant, agent_id, present=False)


def test_an_agent_that_vanishes_mid_poll_is_known_gone_within_a_second(
    tenant: CloudTenant, fake_ad: FakeAD, tmp_path: Path
) -> None:
    upn = str(synced_partner(tenant, fake_ad)["userPrincipalName"])
    state = register_agent(
        tmp_path / "agent", cloud_url=tenant.server.base_url, tenant=tenant.id,
        token=admin_token(tenant), ca_file=tenant.server.ca_path, machine_name="vanishing",
    )  # fmt: skip
    with _raw_poll(tenant, state):
        _wait_until_present(tenant, state.agent_id, present=True)
    # The socket is gone; its poll had 30 seconds left.

    elapsed, refused = _sign_in(tenant, upn)

    assert refused["error_codes"] == [80001], refused
    assert elapsed < 1.0
    assert fake_ad.checked == []
