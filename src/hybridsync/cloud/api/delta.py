"""``/v1.0/users/delta``: full state, then changes, with ``@removed`` for deletions.

A token holds the round's lower bound (``since``, the sequence the previous deltaLink
ended at), its snapshot (``upto``) and the position within the round (``after``). Options
given on the first call are baked into the tokens. Tokens expire after 7 days: the answer is
410 Gone with a ``Location`` to start over. Groups delta (``membership_delta``) uses the same
tokens.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from hybridsync.cloud import odata
from hybridsync.cloud import user_rules as rules
from hybridsync.cloud.api.deps import Ctx, Filter, Select, SkipToken
from hybridsync.cloud.api.users import context_url
from hybridsync.cloud.api.wire import decode_token, encode_token
from hybridsync.cloud.api.wire import odata as odata_response
from hybridsync.cloud.authz import Action
from hybridsync.cloud.db import tenants
from hybridsync.cloud.errors import GraphError, bad_request, unsupported_query
from hybridsync.cloud.service import CloudService

router = APIRouter(prefix="/v1.0", tags=["users"])
TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600
MAX_FILTER_IDS = 50
DEFAULT_PAGE = 100
MANAGER = "manager"
USERS_SELECTABLE = rules.SELECTABLE | {MANAGER}


class Stamped(Protocol):
    """What a delta round pages through: an object's id and the sequence it was stamped with."""

    @property
    def id(self) -> str: ...

    @property
    def seq(self) -> int: ...


class Changes(Protocol):
    def __call__(
        self, tenant_id: str, *, since: int, upto: int, after: int, limit: int
    ) -> Sequence[Stamped]: ...


@dataclass(frozen=True, slots=True)
class DeltaResource:
    """A collection served with delta: who may read it, what ``$select`` takes, where its
    changes come from, and how a page of them is shown."""

    name: str
    action: Action
    selectable: frozenset[str]
    changes: Callable[[CloudService], Changes]
    present: Callable[[Ctx, dict[str, Any], list[Any]], list[dict[str, Any]]]


def add_delta_routes(router: APIRouter, resource: DeltaResource) -> None:
    """``/{name}/delta`` and its function form ``/{name}/delta()``, both one delta call."""

    def endpoint(ctx: Ctx, options: DeltaQuery, prefer: Prefer = None) -> Response:
        ctx.authorize(resource.action)
        return delta_response(ctx, options, prefer, resource)

    name = f"{resource.name}_delta"
    path = f"/{resource.name}/delta"
    router.add_api_route(path, endpoint, methods=["GET"], name=name)
    router.add_api_route(
        f"{path}()", endpoint, methods=["GET"], name=name, operation_id=f"{name}_function_form"
    )


def delta_response(
    ctx: Ctx, options: DeltaOptions, prefer: str | None, resource: DeltaResource
) -> Response:
    """One delta call: the page of changes after the token's position, restricted to the
    ``$filter``'s ids, and the link to the next page or the next round."""
    state = delta_state(ctx, options, resource.selectable, resource.name)
    if options.deltatoken == "latest":
        return odata_response(delta_page(ctx, resource.name, state, [], done=True))
    size = page_size(prefer)
    rows = resource.changes(ctx.service)(
        ctx.tenant_id, since=state["since"], upto=state["upto"], after=state["after"], limit=size
    )
    wanted = set(state.get("ids") or ())
    items = resource.present(ctx, state, [row for row in rows if not wanted or row.id in wanted])
    if rows:
        state["after"] = rows[-1].seq
    return odata_response(delta_page(ctx, resource.name, state, items, done=len(rows) < size))


@dataclass(frozen=True, slots=True)
class DeltaOptions:
    """The query options of a delta call (only the first call's select and filter count)."""

    select: str | None
    filter_: str | None
    skiptoken: str | None
    deltatoken: str | None


def delta_options(
    select: Select = None,
    filter_: Filter = None,
    skiptoken: SkipToken = None,
    deltatoken: Annotated[str | None, Query(alias="$deltatoken")] = None,
) -> DeltaOptions:
    """The query options every delta endpoint takes, read once for all of them."""
    return DeltaOptions(select, filter_, skiptoken, deltatoken)


DeltaQuery = Annotated[DeltaOptions, Depends(delta_options)]
Prefer = Annotated[str | None, Header(alias="Prefer")]


def delta_state(
    ctx: Ctx, options: DeltaOptions, selectable: frozenset[str], resource: str
) -> dict[str, Any]:
    """The round and position a delta call stands at: a first call, a page, or a new round."""
    if options.deltatoken == "latest":  # a fresh start: the query options of this call apply
        return _first_call(ctx, options.select, options.filter_, selectable)
    token = options.skiptoken or options.deltatoken
    if token:
        is_delta = options.deltatoken is not None
        return _resume(ctx, str(token), selectable, resource, is_delta=is_delta)
    return _first_call(ctx, options.select, options.filter_, selectable)


def _first_call(
    ctx: Ctx, select: str | None, filter_: str | None, selectable: frozenset[str]
) -> dict[str, Any]:
    names = rules.parse_select(select, selectable)
    return {
        "since": 0,
        "upto": current_seq(ctx),
        "after": 0,
        "select": list(names) if names else None,
        "ids": filter_ids(filter_),
        "initial": True,
        "issued": int(time.time()),
    }


def _resume(
    ctx: Ctx, token: str, selectable: frozenset[str], resource: str, *, is_delta: bool
) -> dict[str, Any]:
    state = decode_token(token, "delta token")
    if not _well_formed(state, selectable):
        raise bad_request("Invalid delta token.")
    if time.time() - state["issued"] > TOKEN_LIFETIME_SECONDS:
        raise GraphError(
            410,
            "syncStateNotFound",
            "The sync state generated by the delta token has expired; start a full"
            " synchronization.",
            headers={"Location": f"{ctx.base_url}/v1.0/{resource}/delta"},
        )
    if is_delta:  # a new round: everything after the previous snapshot
        state |= {
            "since": state["upto"],
            "upto": current_seq(ctx),
            "after": 0,
            "initial": False,
            "issued": int(time.time()),
        }
    return state


def _well_formed(state: dict[str, Any], selectable: frozenset[str]) -> bool:
    numbers = all(
        isinstance(state.get(k), int) and not isinstance(state.get(k), bool)
        for k in ("since", "upto", "after", "issued")
    )
    select, ids = state.get("select"), state.get("ids")
    return (
        numbers
        and (select is None or (isinstance(select, list) and set(select) <= selectable))
        and (ids is None or (isinstance(ids, list) and all(isinstance(i, str) for i in ids)))
        and isinstance(state.get("initial", False), bool)
    )


def filter_ids(text: str | None) -> list[str] | None:
    if text is None or not text.strip():
        return None
    node = odata.parse_filter(text)
    parts = odata.walk(node)
    compares = [p for p in parts if isinstance(p, odata.Compare)]
    others = [p for p in parts if not isinstance(p, odata.Compare | odata.Or)]
    if others or any(
        c.prop != "id" or c.op != "eq" or not isinstance(c.value, str) for c in compares
    ):
        raise unsupported_query("Delta query supports only $filter on id eq '...' joined by 'or'.")
    if len(compares) > MAX_FILTER_IDS:
        raise unsupported_query(f"Delta query supports at most {MAX_FILTER_IDS} ids in $filter.")
    return [str(c.value) for c in compares]


def current_seq(ctx: Ctx) -> int:
    with ctx.service.db.read() as conn:
        seq = conn.execute(
            sa.select(tenants.c.change_seq).where(tenants.c.id == ctx.tenant_id)
        ).scalar_one()
    return int(seq)


def page_size(prefer: str | None) -> int:
    for part in (prefer or "").split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "odata.maxpagesize" and value.isdigit():
            return max(1, min(int(value), 999))
    return DEFAULT_PAGE


def _item(row: Any, state: dict[str, Any]) -> dict[str, Any] | None:
    if row.purged or row.deleted is not None:
        if state.get("initial"):
            return None  # a first sync never needs to hear about what is already gone
        reason = "deleted" if row.purged else "changed"
        return {"id": row.id, "@removed": {"reason": reason}}
    select = tuple(state["select"]) if state.get("select") else None
    if select and MANAGER in select:
        select = tuple(name for name in select if name != MANAGER) or ("id",)
    return rules.present(dict(row.data), select)


def _add_managers(ctx: Ctx, items: list[dict[str, Any]]) -> None:
    """``manager@delta``: the user's manager, or the one just removed (``@removed``)."""
    live = [item for item in items if "@removed" not in item]
    found = ctx.service.managers.for_delta(ctx.tenant_id, [item["id"] for item in live])
    for item in live:
        if item["id"] in found:
            manager_id, removed = found[item["id"]]
            entry: dict[str, Any] = {"@odata.type": "#microsoft.graph.user", "id": manager_id}
            if removed:
                entry["@removed"] = {"reason": "deleted"}
            item["manager@delta"] = [entry]


def delta_page(
    ctx: Ctx, entity: str, state: dict[str, Any], items: list[Any], *, done: bool
) -> dict[str, Any]:
    """One page of ``entity``'s delta: the items, and the link to the next page or (when
    ``done``) the delta link for the next round, each carrying the encoded state."""
    select = tuple(state["select"]) if state.get("select") else None
    payload: dict[str, Any] = {"@odata.context": context_url(select, entity)}
    link = f"{ctx.base_url}/v1.0/{entity}/delta"
    if done:
        payload["@odata.deltaLink"] = f"{link}?$deltatoken={encode_token(state)}"
    else:
        payload["@odata.nextLink"] = f"{link}?$skiptoken={encode_token(state)}"
    payload["value"] = items
    return payload


def _user_items(ctx: Ctx, state: dict[str, Any], rows: list[Any]) -> list[dict[str, Any]]:
    found = [_item(row, state) for row in rows]
    items = [item for item in found if item is not None]
    if MANAGER in (state.get("select") or ()):
        _add_managers(ctx, items)
    return items


USERS_DELTA = DeltaResource(
    "users", Action.USER_LIST, USERS_SELECTABLE, lambda service: service.users.changes, _user_items
)
add_delta_routes(router, USERS_DELTA)
