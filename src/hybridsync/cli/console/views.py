"""The console's pages: each reads what it shows (in a worker thread) and renders it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hybridsync.cli.console.charts import daily_charts
from hybridsync.cli.console.data import METAVERSE, PAGE
from hybridsync.cli.console.sessions import Session
from hybridsync.cli.values import object_label
from hybridsync.errors import HybridsyncError

if TYPE_CHECKING:
    from hybridsync.cli.console.app import Console
    from hybridsync.engine import Engine

SERVICE_WAIT = 30.0
"""Seconds a page waits for the service's cycle in progress before answering "busy"."""
PLAN_SHOWN = 500
"""Changes listed per kind on the plan page (the plan applied is always all of them)."""
RUN_STATUSES = ("", "success", "completed-with-errors", "stopped")


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1")
    return max(1, min(int(text), 100_000)) if text.isascii() and text.isdigit() else 1


def _form(request: Request, name: str) -> str:
    value = request.state.form.get(name)
    return value if isinstance(value, str) else ""


# --- overview and connectors ---------------------------------------------------------------


async def overview(console: Console, request: Request, session: Session) -> Response:
    status, runs = await run_in_threadpool(
        lambda: (console.state.status(), console.data.recent_runs())
    )
    config = console.state.config
    last = console.state.last_cycle_at
    next_cycle = None if last is None else last + timedelta(seconds=console.cycle_seconds)
    phs = config.password_hash_sync
    return console.render(
        request,
        "overview.html",
        session,
        status=status,
        last_cycle_at=last,
        next_cycle_at=next_cycle,
        phs=None if phs is None or not phs.enabled else phs,
        charts=daily_charts(runs, list(console.state.latencies)),
        approval=console.config.exports_wait_for_approval,
    )


async def live(console: Console, request: Request, session: Session) -> Response:
    """The overview's connector table alone, for the page's script to refresh in place."""
    status = await run_in_threadpool(console.state.status)
    return console.render(request, "connector_health.html", session, status=status)


async def connectors(console: Console, request: Request, session: Session) -> Response:
    def read() -> list[dict[str, Any]]:
        rows = console.state.status()["connectors"]
        return [{**row, **console.data.connector_state(row["connector"])} for row in rows]

    return console.render(request, "connectors.html", session, rows=await run_in_threadpool(read))


# --- runs ----------------------------------------------------------------------------------


async def runs(console: Console, request: Request, session: Session) -> Response:
    connector = request.query_params.get("connector", "")
    status = request.query_params.get("status", "")
    status = status if status in RUN_STATUSES else ""
    found = await run_in_threadpool(console.data.runs, _page_number(request), connector, status)
    names = list(console.state.config_connectors())
    return console.render(
        request,
        "runs.html",
        session,
        found=found,
        connector=connector,
        status=status,
        statuses=RUN_STATUSES,
        connectors=names,
    )


async def run(console: Console, request: Request, session: Session) -> Response:
    run_id = request.path_params["run_id"]
    term = request.query_params.get("q", "")[:200]

    def read() -> tuple[Any, Any]:
        page = _page_number(request)
        return console.data.run(run_id), console.data.run_errors(run_id, page, term)

    found, errors = await run_in_threadpool(read)
    if found is None:
        return console.render(
            request,
            "error.html",
            session,
            404,
            title="No such run",
            message=f"No run has the id {run_id!r}.",
        )
    return console.render(request, "run.html", session, run=found, errors=errors, term=term)


# --- objects -------------------------------------------------------------------------------


async def objects(console: Console, request: Request, session: Session) -> Response:
    term = request.query_params.get("q", "")[:200]
    space = request.query_params.get("space", "")
    spaces = [*console.state.config_connectors(), METAVERSE]
    space = space if space in spaces else ""
    found = await run_in_threadpool(console.data.search, term, _page_number(request), space)
    return console.render(
        request,
        "objects.html",
        session,
        found=found,
        term=term,
        space=space,
        spaces=spaces,
        page_size=PAGE,
    )


async def object_page(console: Console, request: Request, session: Session) -> Response:
    space, object_id = request.path_params["space"], request.path_params["object_id"]
    if space == METAVERSE:
        found = await run_in_threadpool(console.data.mv_object, object_id)
        if found is None:
            return _no_object(console, request, session, object_id)
        return console.render(request, "mv_object.html", session, obj=found)
    found = await run_in_threadpool(console.data.cs_object, space, object_id)
    if found is None:
        return _no_object(console, request, session, object_id)
    key = found["dn"]

    def preview(engine: Engine) -> dict[str, Any]:
        return engine.preview(space, key)

    lineage = await run_in_threadpool(console.state.in_service, preview, SERVICE_WAIT)
    return console.render(
        request,
        "cs_object.html",
        session,
        obj=found,
        lineage=lineage,
        label=_label(found["attributes"], found["dn"]),
    )


def _label(attributes: dict[str, list[str]], dn: str) -> str:
    def first(name: str) -> str | None:
        values = attributes.get(name) or []
        return values[0] if values else None

    return object_label(first("displayName"), first("userPrincipalName"), dn)


def _no_object(console: Console, request: Request, session: Session, object_id: str) -> Response:
    return console.render(
        request,
        "error.html",
        session,
        404,
        title="No such object",
        message=f"No object has the id {object_id!r} there.",
    )


async def sync_now(console: Console, request: Request, session: Session) -> Response:
    space, object_id = request.path_params["space"], request.path_params["object_id"]
    found = await run_in_threadpool(console.data.cs_object, space, object_id)
    if found is None:
        return _no_object(console, request, session, object_id)
    try:
        report = await run_in_threadpool(console.state.sync_object, found["dn"], space)
        outcome = str(report.get("outcome") or report.get("status") or "done")
    except HybridsyncError as exc:  # recorded and shown: the operator sees why
        outcome = f"failed: {exc}"
        report = None
    await run_in_threadpool(
        console.data.record, session.actor, "sync-object", f"{space}: {found['dn']}", outcome
    )
    return console.render(
        request, "synced.html", session, obj=found, report=report, outcome=outcome
    )


# --- plan ----------------------------------------------------------------------------------


def _make_plan(engine: Engine) -> dict[str, Any]:
    return engine.plan()


async def plan(console: Console, request: Request, session: Session) -> Response:
    result = await run_in_threadpool(console.state.in_service, _make_plan, SERVICE_WAIT)
    return console.render(request, "plan.html", session, **_plan_view(result))


def _plan_view(result: dict[str, Any]) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {"add": [], "update": [], "delete": []}
    for change in result["changes"]:
        change["label"] = object_label(
            change.get("display_name"), change.get("user_principal_name"), change["dn"]
        )
        groups.setdefault(change["kind"], []).append(change)
    for changes in groups.values():
        changes.sort(key=lambda change: str(change["label"]).casefold())
    return {"plan": result, "groups": groups, "shown": PLAN_SHOWN, "total": len(result["changes"])}


async def apply(console: Console, request: Request, session: Session) -> Response:
    fingerprint = _form(request, "fingerprint")
    allow_deletes = _form(request, "allow_deletes") == "once"

    def work(engine: Engine) -> tuple[dict[str, Any], dict[str, Any]]:
        cycle = engine.apply({"fingerprint": fingerprint}, allow_deletes=allow_deletes)
        return cycle.as_dict(), engine.plan()

    cycle, after = await run_in_threadpool(console.state.in_service, work, SERVICE_WAIT)
    outcome = str(cycle.get("status"))
    action = "apply-plan-override-deletion-threshold" if allow_deletes else "apply-plan"
    await run_in_threadpool(
        console.data.record, session.actor, action, f"plan {fingerprint[:12]}", outcome, fingerprint
    )
    stopped_at_threshold = any(
        run.get("status") == "stopped-deletion-threshold-exceeded" for run in cycle["runs"]
    )
    mismatch = any(run.get("status") == "stopped-plan-mismatch" for run in cycle["runs"])
    return console.render(
        request,
        "applied.html",
        session,
        cycle=cycle,
        outcome=outcome,
        threshold=stopped_at_threshold,
        mismatch=mismatch,
        **_plan_view(after),
    )


# --- rules and audit -----------------------------------------------------------------------


async def rules(console: Console, request: Request, session: Session) -> Response:
    rule_set = await run_in_threadpool(console.state.config.rule_set)
    by_direction: dict[str, list[Any]] = {}
    for rule in rule_set.rules:
        by_direction.setdefault(rule.direction.value, []).append(rule)
    return console.render(request, "rules.html", session, by_direction=by_direction, origin=_origin)


def _origin(origin: str) -> str:
    if origin.startswith("builtin"):
        return f"built-in ({origin.partition(':')[2] or origin})"
    if "migrated" in origin.lower() or "entra" in origin.lower():
        return f"migrated from Entra Connect ({origin})"
    return f"file {origin}" if origin else "generated from the settings"


async def audit(console: Console, request: Request, session: Session) -> Response:
    found = await run_in_threadpool(console.data.audit, _page_number(request))
    return console.render(request, "audit.html", session, found=found)
