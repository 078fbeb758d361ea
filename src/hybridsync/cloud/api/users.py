"""``/v1.0/users`` and ``/v1.0/me``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import PlainTextResponse, Response

from hybridsync.cloud import odata
from hybridsync.cloud import user_rules as rules
from hybridsync.cloud.api.deps import (
    Consistency,
    Context,
    Count,
    Ctx,
    Filter,
    JsonBody,
    Select,
    SkipToken,
    Top,
)
from hybridsync.cloud.api.wire import (
    GRAPH_ROOT,
    decode_token,
    encode_token,
    link_with,
    no_content,
    without_annotations,
)
from hybridsync.cloud.api.wire import (
    odata as odata_response,
)
from hybridsync.cloud.authz import (
    LIMITED_USER_PROPERTIES,
    Action,
    Target,
    UserView,
    action_for_update,
    may_write_on_premises_properties,
    user_view,
)
from hybridsync.cloud.errors import GraphError, bad_request
from hybridsync.cloud.signin.service import signin_of

router = APIRouter(prefix="/v1.0", tags=["users"])

DEFAULT_PAGE = 100


def check_top(top: int | None) -> int:
    if top is None:
        return DEFAULT_PAGE
    if not 1 <= top <= 999:
        raise GraphError(
            400,
            "Request_BadRequest",
            f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.",
        )
    return top


def context_url(select: tuple[str, ...] | None, entity: str = "users") -> str:
    suffix = f"({','.join(select)})" if select else ""
    return f"{GRAPH_ROOT}/$metadata#{entity}{suffix}"


@router.post("/users", status_code=201)
def create_user(body: JsonBody, ctx: Ctx) -> Response:
    body = without_annotations(body)
    ctx.authorize_write(Action.USER_WRITE)
    sync_writer = may_write_on_premises_properties(ctx.principal)
    rules.check_property_names(body, sync_writer=sync_writer)
    rules.check_types(body)
    rules.check_required(body, password_required=not sync_writer)
    rules.check_values(body)
    user = ctx.service.users.create(ctx.tenant_id, body, synced=sync_writer, extra={})
    payload = {
        "@odata.context": f"{GRAPH_ROOT}/$metadata#users/$entity",
        **rules.present(user, None),
    }
    return odata_response(payload, 201, {"Location": f"{ctx.base_url}/v1.0/users/{user['id']}"})


@router.get("/users")
def list_users(
    ctx: Ctx,
    select: Select = None,
    filter_: Filter = None,
    top: Top = None,
    count: Count = None,
    skiptoken: SkipToken = None,
    consistency: Consistency = None,
    expand: Annotated[str | None, Query(alias="$expand")] = None,
) -> Response:
    ctx.authorize(Action.USER_LIST)
    advanced = (consistency or "").lower() == "eventual" and bool(count)
    names = rules.parse_select(select)
    page_size = check_top(top)
    node = _parse_filter(filter_, advanced=advanced)
    after = str(decode_token(skiptoken, "$skiptoken").get("after", "")) if skiptoken else ""
    matching = _matching(ctx, node, after)
    page = [user for _, user in zip(range(page_size), matching, strict=False)]
    payload: dict[str, Any] = {"@odata.context": context_url(names)}
    if advanced and not skiptoken:
        payload["@odata.count"] = sum(1 for _ in _matching(ctx, node, ""))
    if len(page) == page_size and next(matching, None) is not None:
        token = encode_token({"after": page[-1]["id"]})
        payload["@odata.nextLink"] = link_with(ctx.request, ctx.base_url, **{"$skiptoken": token})
    payload["value"] = [rules.present(user, names) for user in page]
    if _expands_manager(expand):
        _add_managers(ctx, payload["value"])
    return odata_response(payload)


def _expands_manager(expand: str | None) -> bool:
    """``$expand=manager`` (its ``($select=id)`` taken as given: only ids are shown).
    Whoever may list users may read their managers: guests limited or restricted
    cannot list users at all."""
    return bool(expand) and str(expand).split("(", 1)[0].strip().lower() == "manager"


def _add_managers(ctx: Context, items: list[dict[str, Any]]) -> None:
    """Each listed user's manager as ``{"id": ...}``; none: no ``manager`` property."""
    found = ctx.service.managers.for_delta(ctx.tenant_id, [item["id"] for item in items])
    for item in items:
        manager = found.get(item["id"])
        if manager is not None and not manager[1]:
            item["manager"] = {"@odata.type": "#microsoft.graph.user", "id": manager[0]}


def _matching(ctx: Context, node: odata.Node | None, after: str) -> Iterator[dict[str, Any]]:
    for user in ctx.service.users.scan(ctx.tenant_id, after_id=after):
        if node is None or odata.matches(node, user):
            yield user


def _parse_filter(text: str | None, *, advanced: bool) -> odata.Node | None:
    if text is None or not text.strip():
        return None
    node = odata.parse_filter(text)
    odata.check_filter(node, rules.FILTERABLE, advanced=advanced)
    return node


@router.get("/users/$count", response_class=PlainTextResponse)
def count_users(ctx: Ctx, filter_: Filter = None, consistency: Consistency = None) -> Response:
    ctx.authorize(Action.USER_LIST)
    if (consistency or "").lower() != "eventual":
        raise bad_request("$count is not currently supported.")
    node = _parse_filter(filter_, advanced=True)
    return PlainTextResponse(str(sum(1 for _ in _matching(ctx, node, ""))))


@router.get("/me")
def get_me(ctx: Ctx, select: Select = None) -> Response:
    return get_user(ctx.me(), ctx, select)


@router.patch("/me", status_code=204)
def update_me(body: JsonBody, ctx: Ctx) -> Response:
    """The signed-in user changes their own profile (``User.ReadWrite``; what may change is
    decided with every other authorization, in ``authz``)."""
    return update_user(ctx.me(), body, ctx)


@router.get("/users/{user_ref}")
def get_user(user_ref: str, ctx: Ctx, select: Select = None) -> Response:
    names = rules.parse_select(select)
    user = _target_of(ctx, user_ref, Action.USER_READ)
    if user_view(ctx.principal, user["id"], ctx.policy()) is UserView.LIMITED:
        names = tuple(
            n for n in (names or rules.DEFAULT_PROPERTIES) if n in LIMITED_USER_PROPERTIES
        )
    payload = {"@odata.context": f"{context_url(names)}/$entity", **rules.present(user, names)}
    return odata_response(payload)


@router.patch("/users/{user_ref}", status_code=204)
def update_user(user_ref: str, body: JsonBody, ctx: Ctx) -> Response:
    body = without_annotations(body)
    sync_writer = may_write_on_premises_properties(ctx.principal)
    rules.check_property_names(body, sync_writer=sync_writer)  # says nothing of the user
    properties = frozenset(body)
    action = action_for_update(properties)
    user = _target_of(ctx, user_ref, action, properties)
    ctx.authorize_write(action, ctx.target_user(user["id"], properties))
    rules.check_types(body)
    rules.check_values(body)

    def check(existing: dict[str, Any]) -> None:
        if not sync_writer:
            rules.check_not_mastered_on_premises(existing, set(body))
        else:  # after an invitation is redeemed, the cloud may own the user's mail
            signin_of(ctx.service).converted.refuse_synced_mail_change(
                ctx.tenant_id, existing, body
            )

    ctx.service.users.update(ctx.tenant_id, user["id"], body, check, synced=sync_writer)
    return no_content()


@router.delete("/users/{user_ref}", status_code=204)
def delete_user(user_ref: str, ctx: Ctx) -> Response:
    user = _target_of(ctx, user_ref, Action.USER_WRITE, deleting=True)
    ctx.authorize_write(Action.USER_WRITE, ctx.target_user(user["id"], deleting=True))
    sync_writer = may_write_on_premises_properties(ctx.principal)

    def check(existing: dict[str, Any]) -> None:
        if not sync_writer:
            rules.check_not_mastered_on_premises(existing, {"deletedDateTime"})

    ctx.service.users.soft_delete(ctx.tenant_id, user["id"], check)
    return no_content()


def _target_of(
    ctx: Context,
    user_ref: str,
    action: Action,
    properties: frozenset[str] = frozenset(),
    *,
    deleting: bool = False,
) -> dict[str, Any]:
    """The user a request names. Unless it is the caller, the caller must first be allowed
    the action on an ordinary user: who may not gets 403, never a hint that the user exists."""
    if user_ref != ctx.principal.object_id:
        ctx.authorize(action, Target("", properties=properties, deleting=deleting))
    return ctx.service.users.get(ctx.tenant_id, user_ref)
