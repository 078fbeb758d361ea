"""Tenants, their domains and their applications (the administrative side)."""

from __future__ import annotations

import copy
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from cryptography import x509
from sqlalchemy.engine import Connection

from hybridsync.cloud.authz import GUEST_LIMITED, KNOWN_APP_ROLES, SYNC_ROLE
from hybridsync.cloud.db import Database, applications, domains, tenants
from hybridsync.cloud.errors import CloudSetupError
from hybridsync.cloud.keys import utcnow
from hybridsync.cloud.passwords import hash_secret
from hybridsync.cloud.passwords import secret_matches as _matches

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

DEFAULT_SYNC_APP_ROLES = ("Directory.ReadWrite.All", "User.Invite.All", SYNC_ROLE)
POLICY_CACHE_SECONDS = 2.0
"""How long a tenant's authorization policy is served from memory: every request reads
it, and a change made through another process on the same database is seen within this."""


def default_authorization_policy() -> dict[str, Any]:
    return {
        "id": "authorizationPolicy",
        "displayName": "Authorization Policy",
        "description": "Used to manage authorization related settings across the company.",
        "allowInvitesFrom": "everyone",
        "allowedToSignUpEmailBasedSubscriptions": True,
        "allowEmailVerifiedUsersToJoinOrganization": False,
        "blockMsolPowerShell": False,
        "guestUserRoleId": GUEST_LIMITED,
        "defaultUserRolePermissions": {
            "allowedToCreateApps": True,
            "allowedToCreateSecurityGroups": True,
            "allowedToCreateTenants": True,
            "allowedToReadOtherUsers": True,
            "allowedToReadBitlockerKeysForOwnedDevice": True,
            "permissionGrantPoliciesAssigned": [],
        },
    }


@dataclass(frozen=True, slots=True)
class Tenant:
    """A tenant: its id, its name, its initial domain and all its verified domains (sorted)."""

    id: str
    display_name: str
    initial_domain: str
    domains: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Application:
    """A registered application: its ids, its roles (application permissions), its credential."""

    client_id: str
    tenant_id: str
    object_id: str
    display_name: str
    roles: tuple[str, ...]
    secret_hash: str | None
    certificate_pem: str | None

    @property
    def is_public_client(self) -> bool:
        """No credential: a native or command-line app (it cannot keep a secret)."""
        return self.secret_hash is None and self.certificate_pem is None


@dataclass(frozen=True, slots=True)
class NewApplication:
    """An application just added, with its secret: shown once, never stored in clear."""

    application: Application
    client_secret: str | None


class Tenancy:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._policies = _PolicyCache()

    def create_tenant(self, tenant_domain: str, extra_domains: Sequence[str] = ()) -> Tenant:
        """Create a tenant named after ``tenant_domain`` (``contoso.com`` ⇒ ``contoso``)."""
        names = [_check_domain(tenant_domain), *(_check_domain(d) for d in extra_domains)]
        label = names[0].split(".")[0]
        initial = f"{label}.onmicrosoft.com"
        tenant_id = str(uuid.uuid4())
        with self._db.write() as conn:
            conn.execute(
                sa.insert(tenants).values(
                    id=tenant_id,
                    display_name=label.capitalize(),
                    initial_domain=initial,
                    change_seq=0,
                    authorization_policy=default_authorization_policy(),
                    created=utcnow(),
                )
            )
            for name in dict.fromkeys([initial, *names]):
                conn.execute(
                    sa.insert(domains).values(
                        tenant_id=tenant_id, name=name, is_initial=name == initial, is_verified=True
                    )
                )
        return self.tenant(tenant_id)

    def tenant(self, tenant_ref: str) -> Tenant:
        """The tenant with id or verified domain ``tenant_ref``."""
        found = self.find_tenant(tenant_ref)
        if found is None:
            raise CloudSetupError(f"tenant {tenant_ref!r} does not exist")
        return found

    def find_tenant(self, tenant_ref: str) -> Tenant | None:
        with self._db.read() as conn:
            tenant_id = _tenant_id(conn, tenant_ref.lower())
            if tenant_id is None:
                return None
            row = conn.execute(sa.select(tenants).where(tenants.c.id == tenant_id)).one()
            names = conn.execute(
                sa.select(domains.c.name).where(domains.c.tenant_id == tenant_id)
            ).scalars()
            return Tenant(row.id, row.display_name, row.initial_domain, tuple(sorted(names)))

    def only_tenant(self) -> Tenant:
        with self._db.read() as conn:
            ids = conn.execute(sa.select(tenants.c.id)).scalars().all()
        if len(ids) != 1:
            raise CloudSetupError(f"expected one tenant, found {len(ids)}: name it with --tenant")
        return self.tenant(ids[0])

    def add_application(
        self,
        tenant_id: str,
        display_name: str,
        roles: Iterable[str],
        *,
        certificate_pem: str | None = None,
        public_client: bool = False,
    ) -> NewApplication:
        """Register an application with a client secret, or with a certificate if given;
        a public client (a native or command-line app signing users in) gets neither."""
        roles = tuple(dict.fromkeys(roles))
        unknown = sorted(set(roles) - KNOWN_APP_ROLES)
        if unknown:
            raise CloudSetupError(
                f"unknown application role {', '.join(unknown)}; "
                f"the roles are {', '.join(sorted(KNOWN_APP_ROLES))}"
            )
        if public_client and (roles or certificate_pem):
            raise CloudSetupError(
                "a public client has no credential, so no application permission (--role)"
                " and no certificate"
            )
        secret = None if certificate_pem or public_client else secrets.token_urlsafe(32)
        if certificate_pem:
            x509.load_pem_x509_certificate(certificate_pem.encode())
        app = Application(
            client_id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            object_id=str(uuid.uuid4()),
            display_name=display_name,
            roles=roles,
            secret_hash=hash_secret(secret) if secret else None,
            certificate_pem=certificate_pem,
        )
        with self._db.write() as conn:
            conn.execute(
                sa.insert(applications).values(
                    client_id=app.client_id,
                    tenant_id=tenant_id,
                    object_id=app.object_id,
                    display_name=display_name,
                    secret_hash=app.secret_hash,
                    certificate_pem=certificate_pem,
                    roles=list(roles),
                    created=utcnow(),
                )
            )
        return NewApplication(app, secret)

    def application(self, client_id: str) -> Application | None:
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(applications).where(applications.c.client_id == client_id)
            ).one_or_none()
        return None if row is None else _application(row)

    def applications(self, tenant_id: str) -> list[Application]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(applications)
                .where(applications.c.tenant_id == tenant_id)
                .order_by(applications.c.created)
            ).all()
        return [_application(row) for row in rows]

    def authorization_policy(self, tenant_id: str) -> dict[str, Any]:
        """The tenant's policy (a copy the caller may change), from memory when read
        less than :data:`POLICY_CACHE_SECONDS` ago and not changed since."""
        cached = self._policies.get(tenant_id)
        if cached is not None:
            return cached
        generation = self._policies.generation(tenant_id)
        with self._db.read() as conn:
            policy = conn.execute(
                sa.select(tenants.c.authorization_policy).where(tenants.c.id == tenant_id)
            ).scalar_one()
        self._policies.put(tenant_id, dict(policy), generation)
        return copy.deepcopy(dict(policy))

    def set_authorization_policy(self, tenant_id: str, policy: dict[str, Any]) -> None:
        try:
            with self._db.write() as conn:
                conn.execute(
                    sa.update(tenants)
                    .where(tenants.c.id == tenant_id)
                    .values(authorization_policy=policy)
                )
        finally:
            self._policies.forget(tenant_id)

    def verified_domains(self, conn: Connection, tenant_id: str) -> set[str]:
        return set(
            conn.execute(
                sa.select(domains.c.name).where(
                    domains.c.tenant_id == tenant_id, domains.c.is_verified.is_(True)
                )
            ).scalars()
        )


def _application(row: Any) -> Application:
    return Application(
        row.client_id,
        row.tenant_id,
        row.object_id,
        row.display_name,
        tuple(row.roles),
        row.secret_hash,
        row.certificate_pem,
    )


def secret_matches(app: Application, secret: str) -> bool:
    return app.secret_hash is not None and _matches(app.secret_hash, secret)


def _tenant_id(conn: Connection, tenant_ref: str) -> str | None:
    by_id = conn.execute(sa.select(tenants.c.id).where(tenants.c.id == tenant_ref)).scalar()
    if by_id is not None:
        return str(by_id)
    by_domain = conn.execute(
        sa.select(domains.c.tenant_id).where(domains.c.name == tenant_ref)
    ).scalar()
    return None if by_domain is None else str(by_domain)


def _check_domain(name: str) -> str:
    name = name.strip().lower()
    if not _DOMAIN.match(name):
        raise CloudSetupError(f"invalid domain name {name!r}")
    return name


class _PolicyCache:
    """Authorization policies by tenant, each with the time it was read.

    A change forgets the tenant's entry and bumps its generation: a read that started
    before the change (and so may hold the old policy) is not stored.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, dict[str, Any]]] = {}
        self._generations: dict[str, int] = {}

    def get(self, tenant_id: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(tenant_id)
        if entry is None or time.monotonic() - entry[0] > POLICY_CACHE_SECONDS:
            return None
        return copy.deepcopy(entry[1])

    def generation(self, tenant_id: str) -> int:
        with self._lock:
            return self._generations.get(tenant_id, 0)

    def put(self, tenant_id: str, policy: dict[str, Any], generation: int) -> None:
        with self._lock:
            if self._generations.get(tenant_id, 0) == generation:
                self._entries[tenant_id] = (time.monotonic(), copy.deepcopy(policy))

    def forget(self, tenant_id: str) -> None:
        with self._lock:
            self._entries.pop(tenant_id, None)
            self._generations[tenant_id] = self._generations.get(tenant_id, 0) + 1
