"""Application registrations' sign-in side: public or confidential, redirect URIs, the
delegated permissions they declare and the admin consent the tenant gave; and the one
function that decides a user token's ``scp`` from them.

A public client (a native or command-line app) has no credential; a confidential client has
a secret or a certificate and must present it on every grant. Consent is per application
(applications belong to one tenant here, so per tenant too). The tables live in a metadata
of their own, created when the service starts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlalchemy as sa

from hybridsync.cloud.authz import DELEGATED_PERMISSIONS
from hybridsync.cloud.db import Database
from hybridsync.cloud.errors import CloudSetupError, OAuthError
from hybridsync.cloud.tenancy import Application

metadata = sa.MetaData()

client_registrations = sa.Table(
    "client_registrations",
    metadata,
    sa.Column("client_id", sa.String(36), primary_key=True),
    sa.Column("redirect_uris", sa.JSON, nullable=False),
    sa.Column("delegated", sa.JSON, nullable=False),
    sa.Column("consented", sa.JSON, nullable=False),
)

used_assertions = sa.Table(
    "client_assertion_ids",
    metadata,
    sa.Column("client_id", sa.String(36), primary_key=True),
    sa.Column("jti", sa.String(256), primary_key=True),
    sa.Column("expires", sa.DateTime(timezone=True), nullable=False, index=True),
)

GRAPH_RESOURCE = "https://graph.microsoft.com"
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
DEFAULT_SCOPE = ".default"
# When a request names no Graph scope (MSAL's "openid profile offline_access"), Entra issues
# a Graph token for User.Read: the same here, if it was consented.
IMPLICIT_SCOPE = "User.Read"
_CANONICAL = {name.lower(): name for name in (*DELEGATED_PERMISSIONS, *OIDC_SCOPES)}


@dataclass(frozen=True, slots=True)
class ClientRegistration:
    """The sign-in side of one application.

    Attributes:
        public_client: no credential: it signs users in without a secret.
        redirect_uris: where the sign-in page may send codes (loopback URIs match any port).
        delegated: the Graph delegated permissions the application asks for.
        consented: those an administrator consented to for the tenant.
    """

    client_id: str
    public_client: bool
    redirect_uris: tuple[str, ...] = ()
    delegated: frozenset[str] = field(default_factory=frozenset)
    consented: frozenset[str] = field(default_factory=frozenset)


def canonical_scopes(names: Iterable[str]) -> tuple[str, ...]:
    """Graph permission names as Microsoft spells them; unknown ones are a setup error."""
    found = []
    for name in names:
        canonical = _CANONICAL.get(name.strip().lower())
        if canonical is None or canonical in OIDC_SCOPES:
            known = ", ".join(sorted(DELEGATED_PERMISSIONS))
            raise CloudSetupError(f"unknown delegated permission {name!r} (known: {known})")
        found.append(canonical)
    return tuple(dict.fromkeys(found))


def check_redirect_uri(uri: str) -> str:
    parts = urlsplit(uri)
    loopback = parts.scheme == "http" and parts.hostname in {"localhost", "127.0.0.1", "::1"}
    if not (parts.scheme == "https" or loopback) or not parts.hostname or parts.fragment:
        raise CloudSetupError(
            f"invalid redirect URI {uri!r}: use https://, or http:// on a loopback address"
        )
    return uri


class Clients:
    def __init__(self, db: Database) -> None:
        self._db = db
        metadata.create_all(db.engine)

    def register(
        self,
        app: Application,
        *,
        redirect_uris: Sequence[str] = (),
        delegated: Iterable[str] = (),
    ) -> ClientRegistration:
        """Add redirect URIs and delegated permissions to those ``app`` asks for."""
        uris = tuple(dict.fromkeys(check_redirect_uri(u) for u in redirect_uris))
        names = canonical_scopes(delegated)
        found = self.registration(app)
        all_uris = tuple(dict.fromkeys((*found.redirect_uris, *uris)))
        return self._save(
            ClientRegistration(
                app.client_id, found.public_client, all_uris, found.delegated | set(names),
                found.consented,
            )
        )  # fmt: skip

    def consent(self, app: Application, scopes: Iterable[str]) -> ClientRegistration:
        """Admin consent, for the tenant, to delegated permissions the application declared."""
        names = canonical_scopes(scopes)
        found = self.registration(app)
        undeclared = sorted(set(names) - found.delegated)
        if undeclared:
            raise CloudSetupError(
                f"application {app.display_name!r} ({app.client_id}) does not ask for"
                f" {', '.join(undeclared)}: declare it with 'cloud app add --delegated'"
            )
        return self._save(
            ClientRegistration(
                app.client_id, found.public_client, found.redirect_uris, found.delegated,
                found.consented | set(names),
            )
        )  # fmt: skip

    def _save(self, registration: ClientRegistration) -> ClientRegistration:
        values = {
            "redirect_uris": list(registration.redirect_uris),
            "delegated": sorted(registration.delegated),
            "consented": sorted(registration.consented),
        }
        table = client_registrations
        with self._db.write() as conn:
            conn.execute(sa.delete(table).where(table.c.client_id == registration.client_id))
            conn.execute(sa.insert(table).values(client_id=registration.client_id, **values))
        return registration

    def registration(self, app: Application) -> ClientRegistration:
        """The application's sign-in side; an application registered with no sign-in
        settings is a client that declares nothing and has no consent."""
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(client_registrations).where(
                    client_registrations.c.client_id == app.client_id
                )
            ).one_or_none()
        public = app.is_public_client
        if row is None:
            return ClientRegistration(app.client_id, public)
        return ClientRegistration(
            app.client_id,
            public,
            tuple(row.redirect_uris),
            frozenset(row.delegated),
            frozenset(row.consented),
        )

    def first_use_of_assertion(self, client_id: str, jti: str, expires: dt.datetime) -> bool:
        """Record a client assertion's ``jti``; ``False`` if it was seen before (a replay)."""
        with self._db.write() as conn:
            conn.execute(sa.delete(used_assertions).where(used_assertions.c.expires < _now()))
            seen = conn.execute(
                sa.select(used_assertions.c.jti).where(
                    used_assertions.c.client_id == client_id, used_assertions.c.jti == jti
                )
            ).first()
            if seen is not None:
                return False
            conn.execute(
                sa.insert(used_assertions).values(client_id=client_id, jti=jti, expires=expires)
            )
        return True


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def redirect_allowed(registration: ClientRegistration, uri: str) -> bool:
    """An exact registered URI, or a loopback one on any port (RFC 8252, as Entra does)."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    for registered in registration.redirect_uris:
        if uri == registered:
            return True
        known = urlsplit(registered)
        loopback = known.scheme == "http" and known.hostname in {"localhost", "127.0.0.1", "::1"}
        if (
            loopback
            and port is not None
            and (parts.scheme, parts.hostname, parts.path or "/")
            == (known.scheme, known.hostname, known.path or "/")
        ):
            return True
    return False


@dataclass(frozen=True, slots=True)
class GrantedScopes:
    """What a user grant issues: Graph scopes (the token's ``scp``) and the OIDC ones."""

    graph: tuple[str, ...]
    oidc: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.graph, *self.oidc)


def granted_scopes(
    app: Application,
    registration: ClientRegistration,
    requested: Sequence[str],
    *,
    within: frozenset[str] | None = None,
) -> GrantedScopes:
    """``scp`` = the Graph scopes requested, each of them consented; ``.default`` = all
    consented. A scope not consented is refused (AADSTS65001 ``consent_required``), never
    dropped; one outside ``within`` (a refresh token's original grant) is refused too."""
    graph: list[str] = []
    oidc: list[str] = []
    for item in requested:
        name = _scope_name(item)
        if name in OIDC_SCOPES:
            oidc.append(name)
        elif name == DEFAULT_SCOPE:
            graph.extend(sorted(registration.consented))
        else:
            graph.append(name)
    if not graph and DEFAULT_SCOPE not in {_scope_name(i) for i in requested}:
        graph.append(IMPLICIT_SCOPE)
    names = tuple(dict.fromkeys(graph))
    missing = [n for n in names if n not in registration.consented]
    if missing or not names:
        raise consent_required(app, missing)
    if within is not None and not set(names) <= within:
        raise OAuthError(
            "invalid_scope",
            70011,
            f"The provided value for the input parameter 'scope' is not valid: the refresh"
            f" token was not granted {', '.join(sorted(set(names) - within))}.",
        )
    return GrantedScopes(names, tuple(dict.fromkeys(oidc)))


def _scope_name(item: str) -> str:
    """``https://graph.microsoft.com/User.Read`` → ``User.Read``; unknown names refused."""
    resource, _, name = item.rpartition("/")
    if resource and resource.rstrip("/") != GRAPH_RESOURCE:
        raise _invalid_scope(item)
    if name == DEFAULT_SCOPE:
        return name
    canonical = _CANONICAL.get(name.lower())
    if canonical is None:
        raise _invalid_scope(item)
    return canonical


def _invalid_scope(item: str) -> OAuthError:
    return OAuthError(
        "invalid_scope",
        70011,
        f"The provided value for the input parameter 'scope' is not valid. The scope {item} is"
        " not valid.",
    )


def consent_required(app: Application, missing: Sequence[str]) -> OAuthError:
    what = f" (not consented: {', '.join(missing)})" if missing else ""
    return OAuthError(
        "invalid_grant",
        65001,
        f"The user or administrator has not consented to use the application with ID"
        f" '{app.client_id}' named '{app.display_name}'{what}. Send an interactive"
        " authorization request for this user and resource.",
        suberror="consent_required",
    )
