"""``POST /v1.0/hybridsync/passwordHashes``: password hash sync uploads (this service's extension).

Only applications holding the synchronization role may call it. Each item names a synced
user by id and carries the derived wire text ``v1;PPH1_MD4,<salt>,<iterations>,<hash>;``;
the answer has one result per item, so one refused user never fails the others. The
wire text is never echoed, not even in an error.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from starlette.responses import Response

from hybridsync.cloud.api.deps import Ctx
from hybridsync.cloud.api.wire import odata
from hybridsync.cloud.authz import may_write_on_premises_properties
from hybridsync.cloud.errors import GraphError, access_denied
from hybridsync.cloud.password_hash_sync import parse_wire
from hybridsync.cloud.signin.service import signin_of

router = APIRouter(prefix="/v1.0/hybridsync", tags=["password hash sync"])
MAX_ITEMS = 100


class PasswordHashItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(alias="userId", min_length=1, max_length=64)
    password_hash: SecretStr = Field(
        alias="passwordHash",
        description="v1;PPH1_MD4,<salt: 20 hex>,<iterations>,<hash: 64 hex>;",
    )


class PasswordHashUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: list[PasswordHashItem] = Field(min_length=1, max_length=MAX_ITEMS)


@router.post("/passwordHashes")
def upload_password_hashes(body: Annotated[PasswordHashUpload, Body()], ctx: Ctx) -> Response:
    """Store the derived hashes of synced users (replacing any previous one)."""
    if not may_write_on_premises_properties(ctx.principal):
        raise access_denied()
    if ctx.service.throttle is not None:
        ctx.service.throttle.charge_write(ctx.tenant_id, ctx.principal.client_id)
    return odata({"value": [_store(ctx, item) for item in body.value]})


def _store(ctx: Ctx, item: PasswordHashItem) -> dict[str, Any]:
    wire = item.password_hash.get_secret_value()
    if parse_wire(wire) is None:
        return _refused(item, 400, "Request_BadRequest", "passwordHash is not a v1 PPH1_MD4 hash.")
    try:
        user = ctx.service.users.get(ctx.tenant_id, item.user_id)
    except GraphError as exc:
        return _refused(item, exc.status, exc.code, exc.message)
    if user.get("id") != item.user_id:
        return _refused(item, 400, "Request_BadRequest", "userId must be the user's object id.")
    if not user.get("onPremisesSyncEnabled"):
        message = "Password hashes are stored only for users synced from on-premises."
        return _refused(item, 400, "Request_BadRequest", message)
    if signin_of(ctx.service).converted.keeps_synced_hash(ctx.tenant_id, user):
        ctx.service.synced_passwords.store(ctx.tenant_id, item.user_id, wire)
    return {"userId": item.user_id, "status": 204}


def _refused(item: PasswordHashItem, status: int, code: str, message: str) -> dict[str, Any]:
    return {"userId": item.user_id, "status": status, "error": {"code": code, "message": message}}
