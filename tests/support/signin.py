"""Sign-in test helpers: a running pass-through agent, synced users, MSAL pointed at the cloud.

with running_agent(tenant, tmp_path / "agent", checker) as agent: ...
user = sync_user(tenant, upn="x@partners.contoso.com", anchor=..., guest=True)
result = msal_app(tenant, client_id).acquire_token_by_username_password(upn, pw, scopes=[])
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msal
import msal.authority
import requests
from tests.support.cloud_server import CloudTenant
from tests.support.sessions import closed_after_test

from hybridsync.agent.register import register_agent
from hybridsync.agent.runner import AgentRunner, Checker
from hybridsync.cloud.signin.service import signin_of

GRAPH_USER_READ = "https://graph.microsoft.com/User.Read"


def public_client(tenant: CloudTenant) -> str:
    """The client id of a new public client application (no secret, consented scopes)."""
    return tenant.add_public_client().application.client_id


def msal_app(tenant: CloudTenant, client_id: str) -> msal.PublicClientApplication:
    """MSAL unchanged, but for the authority and the CA it trusts.

    MSAL asks for home-realm discovery on the authority's host *without its port*; the
    served directory answers it on its own port, so tell MSAL to skip it for this host.
    """
    host = tenant.server.base_url.removeprefix("https://").split(":")[0]
    msal.authority.Authority._domains_without_user_realm_discovery.add(host)
    session = requests.Session()
    session.trust_env = False  # the test CA only, whatever REQUESTS_CA_BUNDLE says
    session.verify = str(tenant.server.ca_path)
    # No keep-alive: a connection left open would outlive the test's server unclosed.
    session.headers["Connection"] = "close"
    return msal.PublicClientApplication(
        client_id,
        authority=tenant.authority,
        instance_discovery=False,
        http_client=closed_after_test(session),
    )


def sync_user(
    tenant: CloudTenant, *, upn: str, anchor: bytes, guest: bool, name: str = "Synced User"
) -> dict[str, Any]:
    """Create a user as the sync engine does (sync role, on-premises anchor, no password)."""
    body = {
        "accountEnabled": True,
        "displayName": name,
        "mailNickname": upn.split("@")[0],
        "userPrincipalName": upn,
        "onPremisesImmutableId": base64.b64encode(anchor).decode(),
        "userType": "Guest" if guest else "Member",
    }
    with tenant.client(tenant.app_token(tenant.sync_app)) as http:
        answer = http.post("/v1.0/users", json=body)
        answer.raise_for_status()
        user: dict[str, Any] = answer.json()
        return user


def admin_token(tenant: CloudTenant) -> str:
    return tenant.app_token(tenant.admin_app)


@contextmanager
def running_agent(
    tenant: CloudTenant, directory: Path, checker: Checker, *, workers: int = 1
) -> Iterator[AgentRunner]:
    """Register an agent with the tenant (admin token) and run it until the block ends."""
    state = register_agent(
        directory,
        cloud_url=tenant.server.base_url,
        tenant=tenant.id,
        token=admin_token(tenant),
        ca_file=tenant.server.ca_path,
        machine_name=f"agent-{secrets.token_hex(3)}",
    )
    runner = AgentRunner(state, checker, workers=workers, poll_seconds=2.0)
    runner.start()
    queue = signin_of(tenant.server.service).pta
    deadline = time.monotonic() + 10
    while not any(a.id == state.agent_id for a in queue.connected_agents(tenant.id)):
        assert time.monotonic() < deadline, "the agent never polled"
        time.sleep(0.02)
    try:
        yield runner
    finally:
        runner.stop()
