"""Who is calling: one value resolved from the bearer token, used by every decision."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PrincipalKind(StrEnum):
    """Who a token speaks for: an application itself, or a signed-in user."""

    APP = "app"
    USER = "user"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a Graph request.

    Attributes:
        kind: an application (client credentials) or a signed-in user.
        tenant_id: the tenant the token was issued for (``tid``).
        object_id: the caller's object id (``oid``): the user, or the app's service principal.
        client_id: the application the token was issued to (``azp``/``appid``).
        roles: application permissions (``roles`` claim).
        scopes: delegated permissions (``scp`` claim, space separated on the wire).
        is_guest: a user whose ``userType`` is ``Guest`` (read from the directory, not the token).
        directory_roles: a user's directory roles (template ids), read from the directory
            on every request so that removing a role takes effect at once.
    """

    kind: PrincipalKind
    tenant_id: str
    object_id: str
    client_id: str
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    is_guest: bool = False
    directory_roles: frozenset[str] = frozenset()

    @property
    def is_app(self) -> bool:
        return self.kind is PrincipalKind.APP
