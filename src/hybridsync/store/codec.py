"""Attribute maps as JSON text: bytes as base64, references tagged, the rest as is."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from hybridsync.core.objects import PendingExport
from hybridsync.core.ports import ExportKind
from hybridsync.core.values import Reference, Values


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"x": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Reference):
        return {"r": value.dn}
    raise TypeError(f"cannot store a value of type {type(value).__name__}")


def _hook(item: dict[str, Any]) -> Any:
    if len(item) == 1:
        if isinstance(item.get("x"), str):
            return base64.b64decode(item["x"])
        if isinstance(item.get("r"), str):
            return Reference(item["r"])
    return item


def dump_attributes(attributes: Mapping[str, Values]) -> str:
    return json.dumps(
        {name: list(values) for name, values in attributes.items() if values},
        default=_default,
        separators=(",", ":"),
    )


def load_attributes(text: str | None) -> dict[str, Values]:
    if not text:
        return {}
    loaded = json.loads(text, object_hook=_hook)
    return {name: tuple(values) for name, values in loaded.items()}


def dump_pending(pending: PendingExport | None) -> str | None:
    if pending is None:
        return None
    return json.dumps(
        {"kind": pending.kind.value, "changes": {k: list(v) for k, v in pending.changes.items()}},
        default=_default,
        separators=(",", ":"),
    )


def load_pending(text: str | None) -> PendingExport | None:
    if not text:
        return None
    loaded = json.loads(text, object_hook=_hook)
    changes = {name: tuple(values) for name, values in loaded["changes"].items()}
    return PendingExport(ExportKind(loaded["kind"]), changes)
