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
            changes.append(
                {
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
    return {"fingerprint": fingerprint(changes), "summary": summary, "changes": changes}


def fingerprint(changes: list[dict[str, Any]]) -> str:
    text = json.dumps(changes, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
