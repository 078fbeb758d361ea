"""Plans: every pending export with per-attribute before and after, and a fingerprint.

``apply`` exports only when the current pending exports still have the saved plan's
fingerprint; anything that changed in between makes it refuse.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hybridsync.engine.context import EngineContext
from hybridsync.engine.export import change_for
from hybridsync.engine.preview import _show


def make_plan(context: EngineContext) -> dict[str, Any]:
    store = context.store
    changes: list[dict[str, Any]] = []
    for name in context.targets():
        for cs in store.get_cs_many(store.cs_ids_to_export(name)):
            change = change_for(cs)
            before = cs.effective_attributes() if cs.anchor else {}
            after = {**before, **{item.name: item.values for item in change.changes}}
            changes.append(
                {
                    "names": _names(after),
                    "connector": name,
                    "kind": change.kind.value,
                    "dn": change.dn,
                    "anchor": cs.anchor,
                    "attributes": [
                        {
                            "name": item.name,
                            "before": _show(before.get(item.name, ())),
                            "after": _show(item.values),
                        }
                        for item in change.changes
                    ],
                }
            )
    changes.sort(key=lambda entry: (entry["connector"], entry["kind"], entry["dn"]))
    summary: dict[str, int] = {}
    for entry in changes:
        summary[entry["kind"]] = summary.get(entry["kind"], 0) + 1
    # The names only help a reviewer: the fingerprint covers what would be exported.
    named = [(entry, entry.pop("names")) for entry in changes]
    signed = fingerprint(changes)
    for entry, names in named:
        entry.update(names)
    return {"fingerprint": signed, "summary": summary, "changes": changes}


SYNCED_MARKER = "onPremisesSyncEnabled"
"""A cloud object's mark that a directory synchronization wrote it (Graph's name)."""
_BATCH = 1000


def unjoined_synced(context: EngineContext) -> list[dict[str, Any]]:
    """Target objects marked as written by a directory synchronization that no source
    object joins. No export updates or deletes them, so a plan never lists them; after
    a switch-over they would stay as they are, updated by nothing."""
    store = context.store
    found: list[dict[str, Any]] = []
    for name in context.targets():
        ids = store.cs_ids(name)
        for start in range(0, len(ids), _BATCH):
            for cs in store.get_cs_many(ids[start : start + _BATCH]):
                values = cs.effective_attributes()
                if cs.mv_id is None and _marked_synced(values):
                    found.append(
                        {"connector": name, "dn": cs.dn, "anchor": cs.anchor} | _names(values)
                    )
    found.sort(key=lambda entry: (entry["connector"], entry["dn"]))
    return found


def _marked_synced(values: dict[str, Any]) -> bool:
    return any(str(value).casefold() == "true" for value in values.get(SYNCED_MARKER, ()))


def _names(values: dict[str, Any]) -> dict[str, str | None]:
    """The object's displayName and userPrincipalName, as the export leaves them."""
    return {
        key: str(values[attribute][0]) if values.get(attribute) else None
        for key, attribute in (
            ("display_name", "displayName"),
            ("user_principal_name", "userPrincipalName"),
        )
    }


def fingerprint(changes: list[dict[str, Any]]) -> str:
    text = json.dumps(changes, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
