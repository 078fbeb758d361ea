"""``hybridsync preview``: what a sync would do to one object, with lineage."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from hybridsync.cli import app
from hybridsync.cli.sync import ConfigOption, JsonOption, engine_from, print_json
from hybridsync.cli.values import object_label, values_text
from hybridsync.errors import NotFoundError

if TYPE_CHECKING:
    from hybridsync.wiring import Built


@app.command("preview")
def preview(
    key: str = typer.Argument(..., help="The object's DN, UPN or anchor."),
    connector: str | None = typer.Option(
        None, "--connector", help="The connector space to look in (default: the first source)."
    ),
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
) -> None:
    """Preview one object: rules in scope, join, metaverse and target values with lineage."""
    with engine_from(config) as built:
        name = connector or built.engine.context.sources()[0]
        result = built.engine.preview(name, _dn_of_key(built, name, key))
    if as_json:
        print_json(result)
        return
    _print(result)


def _dn_of_key(built: Built, connector: str, key: str) -> str:
    """The DN or anchor to preview: ``key`` itself, or the DN of the user whose UPN it is.

    Raises:
        NotFoundError: ``key`` is a UPN no object in the connector space holds.
    """
    if not _looks_like_upn(key):
        return key
    found = _dn_of_upn(built, connector, key)
    if found is None:
        raise NotFoundError(f"connector {connector!r} holds no object with UPN {key!r}")
    return found


def _looks_like_upn(key: str) -> bool:
    return "@" in key and "=" not in key


def _dn_of_upn(built: Built, connector: str, key: str) -> str | None:
    """The DN of the object whose userPrincipalName is ``key`` (any case), if ``key`` is one.

    The connector space indexes DNs and anchors only, so a UPN is found by a scan: fine
    for one interactive lookup.
    """
    store, wanted = built.store, key.casefold()
    ids = store.cs_ids(connector)
    for start in range(0, len(ids), 1000):
        for cs in store.get_cs_many(ids[start : start + 1000]):
            upns = cs.attributes.get("userPrincipalName") or ()
            if any(str(upn).casefold() == wanted for upn in upns):
                return cs.dn
    return None


def _print(result: dict[str, Any]) -> None:
    obj = result["object"]
    typer.echo(f"{obj['connector']}: {obj['dn']} (anchor {obj['anchor']})")
    typer.echo("rules in scope: " + (", ".join(result["rules_in_scope"]) or "none"))
    for item in result.get("membership", []):
        answer = "yes" if item["member"] else "no"
        if not item["group_found"]:
            answer += " (no such group in the connector space)"
        typer.echo(f"member of {item['group']}: {answer}")
    join = result["join"]
    typer.echo(f"join: {join['action']}" + (f" by rule '{join['rule']}'" if join["rule"] else ""))
    for step in join["steps"]:
        typer.echo(f"  {step}")
    if join["error"]:
        typer.echo(f"  error: {join['error']}")
    for error in result["errors"]:
        typer.echo(
            f"error: rule '{error['rule']}', attribute {error['attribute']}: {error['message']}"
        )
    if "metaverse" in result:
        typer.echo("metaverse:")
        _print_attributes(result["metaverse"])
    for target, entry in result.get("targets", {}).items():
        typer.echo(f"target {target}: {entry['action']} {_target_label(entry)}".rstrip())
        _print_attributes(entry["attributes"])
        pending = entry["pending_export"]
        typer.echo(f"  pending export: {pending['kind'] if pending else 'none'}")
        for name, values in (pending or {}).get("changes", {}).items():
            typer.echo(f"    {name}: {values_text(values)}")


def _print_attributes(attributes: dict[str, Any]) -> None:
    """``name = values   <- rule``: each value with the rule that set it."""
    for name, item in attributes.items():
        source = f"<- {item['rule']}" if item["rule"] else "(no rule sets it)"
        typer.echo(f"  {name} = {values_text(item['values'])}   {source}")


def _target_label(entry: dict[str, Any]) -> str:
    """The target object by displayName and UPN (its DN, often an anchor, is in --json)."""
    attributes = entry["attributes"]

    def first(name: str) -> str | None:
        values = attributes.get(name, {}).get("values") or []
        return str(values[0]) if values else None

    return object_label(first("displayName"), first("userPrincipalName"), entry["dn"] or "")
