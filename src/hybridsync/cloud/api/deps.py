"""Dependencies: the service, the caller (``Principal``) and the per-request context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Body, Depends, Header, Query
from starlette.requests import Request

from hybridsync.cloud.authz import Action, Target, authorize
from hybridsync.cloud.errors import GraphError, unauthenticated
from hybridsync.cloud.principal import Principal, PrincipalKind
from hybridsync.cloud.service import CloudService
from hybridsync.cloud.tokens import GRAPH_APP_ID, GRAPH_RESOURCE
from hybridsync.json_types import JsonObject

JsonBody = Annotated[JsonObject, Body()]
"""A request body that must be a JSON object (FastAPI answers 422 otherwise)."""

# The OData query options and headers of Graph's collections.
Select = Annotated[str | None, Query(alias="$select")]
Filter = Annotated[str | None, Query(alias="$filter")]
Top = Annotated[int | None, Query(alias="$top")]
Count = Annotated[bool | None, Query(alias="$count")]
SkipToken = Annotated[str | None, Query(alias="$skiptoken")]
Consistency = Annotated[str | None, Header(alias="ConsistencyLevel")]


def get_service(request: Request) -> CloudService:
    service: CloudService = request.app.state.service
    return service


Service = Annotated[CloudService, Depends(get_service)]


def accepted_audiences(request: Request, base_url: str) -> set[str]:
    return {GRAPH_RESOURCE, GRAPH_APP_ID, base_url, f"https://{request.url.hostname}"}


def resolve_principal(
    request: Request, service: Annotated[CloudService, Depends(get_service)]
) -> Principal:
    """The caller, from the bearer token; 401 ``InvalidAuthenticationToken`` otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    base_url = service.base_url(request)
    claims = service.issuer.validate(
        token.strip(), base_url=base_url, audiences=accepted_audiences(request, base_url)
    )
    tenant_id = str(claims["tid"])
    if claims.get("idtyp") == "app":
        return Principal(
            PrincipalKind.APP,
            tenant_id,
            str(claims["oid"]),
            str(claims.get("azp", "")),
            roles=frozenset(claims.get("roles") or ()),
        )
    return _user_principal(service, claims, tenant_id)


def _user_principal(service: CloudService, claims: dict[str, Any], tenant_id: str) -> Principal:
    try:
        user = service.users.get(tenant_id, str(claims["oid"]))
    except GraphError as exc:
        raise unauthenticated("Access token validation failure. The user does not exist.") from exc
    if user.get("accountEnabled") is False:
        raise unauthenticated("Access token validation failure. The user account is disabled.")
    return Principal(
        PrincipalKind.USER,
        tenant_id,
        user["id"],
        str(claims.get("azp", "")),
        scopes=frozenset(str(claims.get("scp", "")).split()),
        is_guest=user.get("userType") == "Guest",
        directory_roles=service.role_assignments.roles_of(tenant_id, user["id"]),
    )


@dataclass(frozen=True, slots=True)
class Context:
    """What a Graph route needs: the service, the caller, the tenant's policy, the base URL."""

    service: CloudService
    principal: Principal
    base_url: str
    request: Request

    @property
    def tenant_id(self) -> str:
        return self.principal.tenant_id

    def me(self) -> str:
        """The signed-in user's id: what ``/me`` names (nothing, for an application)."""
        if self.principal.is_app:
            raise GraphError(
                400, "BadRequest", "/me request is only valid with delegated authentication flow."
            )
        return self.principal.object_id

    def policy(self) -> dict[str, Any]:
        return self.service.tenancy.authorization_policy(self.tenant_id)

    def authorize(self, action: Action, target: Target | None = None) -> None:
        authorize(self.principal, action, self.policy(), target)

    def authorize_write(self, action: Action, target: Target | None = None) -> None:
        """Authorize, then charge the write quotas (a refused call costs nothing)."""
        self.authorize(action, target)
        if self.service.throttle is not None:
            self.service.throttle.charge_write(self.tenant_id, self.principal.client_id)

    def target_user(
        self, user_id: str, properties: frozenset[str] = frozenset(), *, deleting: bool = False
    ) -> Target:
        """The user a request is about, with the directory roles that protect them."""
        roles = self.service.role_assignments.roles_of(self.tenant_id, user_id)
        return Target(user_id, roles, properties, deleting)


def get_context(
    request: Request,
    service: Annotated[CloudService, Depends(get_service)],
    principal: Annotated[Principal, Depends(resolve_principal)],
) -> Context:
    if request.method == "GET":
        service.limiter.charge_read(principal.tenant_id, principal.client_id)
    return Context(service, principal, service.base_url(request), request)


Ctx = Annotated[Context, Depends(get_context)]
