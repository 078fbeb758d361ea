"""The cloud directory served for real: uvicorn over HTTPS on loopback, a CA clients trust.

Reusable by any test (end-to-end tests included)::

    with serve_cloud(tmp_path) as server:
        tenant = server.new_tenant()
        token = tenant.app_token(tenant.sync_app)
        with tenant.client(token) as http:
            http.post("/v1.0/users", json={...})

``server.ca_path`` is the CA file (pass it as ``verify=`` to httpx/requests/msal);
``tenant.authority`` is the msal authority URL. ``tenant.add_public_client()`` registers a
sign-in client with consented scopes; ``tenant.mint_user_token(user_id)`` mints a delegated
token without a sign-in (test helper only).
"""

from __future__ import annotations

import secrets
import ssl
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from hybridsync.cloud import CloudService, CloudSettings, ThrottleSettings, create_app
from hybridsync.cloud.server import ThreadedServer, TlsConfig
from hybridsync.cloud.tenancy import DEFAULT_SYNC_APP_ROLES, NewApplication, Tenant
from hybridsync.cloud.tls import ensure_local_tls

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ADMIN_ROLES = (
    "Directory.ReadWrite.All",
    "Group.ReadWrite.All",
    "User.Invite.All",
    "Policy.ReadWrite.Authorization",
)
READ_SCOPES = ("User.Read", "Directory.Read.All")
"""Delegated scopes for reading the directory as the signed-in user may."""
SIGN_IN_SCOPES = ("User.Read", "User.ReadBasic.All", "Group.Read.All")
"""What the test public clients ask for, and are consented."""


@dataclass
class CloudServer:
    service: CloudService
    base_url: str
    ca_path: Path

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting only the test CA (hostnames checked)."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def new_tenant(
        self, domain: str | None = None, extra_domains: Sequence[str] = ()
    ) -> CloudTenant:
        """A fresh tenant (own users, policy and apps) with a sync app and an admin app."""
        domain = domain or f"t{secrets.token_hex(4)}.example"
        tenant = self.service.tenancy.create_tenant(domain, [f"partners.{domain}", *extra_domains])
        tenancy = self.service.tenancy
        sync_app = tenancy.add_application(tenant.id, "sync engine", DEFAULT_SYNC_APP_ROLES)
        admin_app = tenancy.add_application(tenant.id, "cloud admin", ADMIN_ROLES)
        return CloudTenant(self, tenant, domain, sync_app, admin_app)


def graph_connector_toml(server: CloudServer, tenant: CloudTenant, root: Path) -> str:
    """The ``[[connectors]]`` table of a Graph connector named ``cloud`` writing into ``tenant``.

    Signs in as the tenant's sync app with a secret it writes to ``root/graph.secret`` (the
    config points at it by a path relative to ``root``).
    """
    (root / "graph.secret").write_text(tenant.sync_app.client_secret or "", "utf-8")
    return f"""
[[connectors]]
type = "graph"
name = "cloud"
base_url = "{server.base_url}/v1.0"
authority = "{tenant.authority}"
client_id = "{tenant.sync_app.application.client_id}"
client_secret_file = "graph.secret"
ca_file = "{server.ca_path}"
target = "hybridsync"
"""


def create_in_batches(
    tenant: CloudTenant, users: Sequence[dict[str, Any]], concurrency: int
) -> float:
    """Create ``users`` as the sync app in ``$batch`` bodies of 20, ``concurrency`` in flight.

    The raw baseline of the benchmarks: bodies are built before the clock starts, nothing
    but the requests is timed. Returns the seconds; fails if any create was refused.
    """
    bodies = [
        {"requests": [
            {"id": str(start + n), "method": "POST", "url": "/users",
             "headers": {"Content-Type": "application/json"}, "body": body}
            for n, body in enumerate(users[start : start + 20])
        ]}
        for start in range(0, len(users), 20)
    ]  # fmt: skip
    with tenant.client(tenant.app_token(tenant.sync_app)) as http:
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            answers = list(pool.map(lambda body: http.post("/v1.0/$batch", json=body), bodies))
        elapsed = time.perf_counter() - started
    for answer in answers:
        assert answer.status_code == 200, answer.text[:300]
        assert all(r["status"] == 201 for r in answer.json()["responses"]), answer.text[:300]
    return elapsed


@dataclass
class CloudTenant:
    server: CloudServer
    tenant: Tenant
    domain: str
    sync_app: NewApplication
    admin_app: NewApplication

    @property
    def id(self) -> str:
        return self.tenant.id

    def property_by_upn(self, name: str) -> dict[str, Any]:
        """One Graph property of every user, by UPN, read as the tenant's admin app."""
        with self.client(self.app_token(self.admin_app)) as http:
            answer = http.get(
                "/v1.0/users", params={"$select": f"userPrincipalName,{name}", "$top": "999"}
            )
        answer.raise_for_status()
        return {user["userPrincipalName"]: user.get(name) for user in answer.json()["value"]}

    @property
    def partner_domain(self) -> str:
        return f"partners.{self.domain}"

    @property
    def authority(self) -> str:
        return f"{self.server.base_url}/{self.tenant.id}"

    def add_app(self, roles: Sequence[str], certificate_pem: str | None = None) -> NewApplication:
        return self.server.service.tenancy.add_application(
            self.tenant.id, "test app", roles, certificate_pem=certificate_pem
        )

    def add_public_client(
        self,
        scopes: Sequence[str] = SIGN_IN_SCOPES,
        redirect_uris: Sequence[str] = ("http://localhost",),
    ) -> NewApplication:
        """A public client (no secret) asking for ``scopes``, all admin-consented."""
        service = self.server.service
        new = service.tenancy.add_application(
            self.tenant.id, "public client", (), public_client=True
        )
        service.clients.register(new.application, redirect_uris=redirect_uris, delegated=scopes)
        service.clients.consent(new.application, scopes)
        return new

    def app_token(self, app: NewApplication, scope: str = GRAPH_SCOPE) -> str:
        """A client-credentials token, obtained over HTTPS from the token endpoint."""
        answer = httpx.post(
            f"{self.authority}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app.application.client_id,
                "client_secret": app.client_secret or "",
                "scope": scope,
            },
            verify=self.server.ssl_context(),
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def mint_user_token(self, user_id: str, scopes: Sequence[str] = READ_SCOPES) -> str:
        """TEST ONLY: a delegated token for a user, without any sign-in grant (the scopes
        as if consented; what the user may do still depends on who the user is)."""
        service = self.server.service
        user = service.users.get(self.tenant.id, user_id)
        issued = service.issuer.issue_user_token(
            base_url=self.server.base_url,
            tenant_id=self.tenant.id,
            client_id=self.admin_app.application.client_id,
            user=user,
            scopes=tuple(scopes),
        )
        return issued.access_token

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(
            base_url=self.server.base_url, verify=self.server.ssl_context(), headers=headers
        )

    def user_body(self, alias: str, **extra: Any) -> dict[str, Any]:
        """A valid create-user body on the tenant's first verified domain."""
        return {
            "accountEnabled": True,
            "displayName": alias.capitalize(),
            "mailNickname": alias,
            "userPrincipalName": f"{alias}@{self.domain}",
            "passwordProfile": {
                "password": "Str0ng!Passw0rd",
                "forceChangePasswordNextSignIn": False,
            },
            **extra,
        }


@contextmanager
def serve_cloud(directory: Path, throttle: ThrottleSettings | None = None) -> Iterator[CloudServer]:
    """Serve a new cloud directory (SQLite in ``directory``) over HTTPS until the block ends."""
    tls = ensure_local_tls(directory / "tls")
    settings = CloudSettings(
        database_url=f"sqlite:///{directory / 'cloud.db'}",
        master_key=secrets.token_urlsafe(32),
        throttle=throttle,
    )
    service = CloudService(settings)
    try:
        with ThreadedServer(
            create_app(service), TlsConfig(tls.certificate, tls.private_key)
        ) as server:
            yield CloudServer(service, server.base_url, tls.ca_certificate)
    finally:
        service.close()


@asynccontextmanager
async def graph_client(tenant: CloudTenant, app: NewApplication) -> AsyncIterator[Any]:
    """Microsoft's ``GraphServiceClient`` pointed at the served directory.

    Unchanged but for the base URL, the authority and the CA it trusts.
    """
    from azure.identity.aio import ClientSecretCredential
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory

    server = tenant.server
    credential = ClientSecretCredential(
        tenant.id,
        app.application.client_id,
        app.client_secret or "",
        authority=server.base_url.removeprefix("https://"),
        disable_instance_discovery=True,
        connection_verify=str(server.ca_path),
    )
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE])
    async with httpx.AsyncClient(verify=server.ssl_context()) as http:
        # kiota wraps the transport and its wrapper does not close it: close it ourselves.
        own_transport = http._transport
        adapter = GraphRequestAdapter(
            auth, client=GraphClientFactory.create_with_default_middleware(client=http)
        )
        adapter.base_url = f"{server.base_url}/v1.0"
        try:
            yield GraphServiceClient(request_adapter=adapter)
        finally:
            await credential.close()
            await own_transport.aclose()
