"""Applying an imported record to its connector-space object, with export status memory.

Exported values stay *unconfirmed* until an import returns them. An import settles
every unconfirmed value: the ones it returns are confirmed; for the others a different
value was imported, and the object goes back to sync, whose diff sends the wanted
value again. An object whose import shows exactly what was expected needs no sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from hybridsync.core.convert import same_values
from hybridsync.core.objects import CSObject, PendingImport
from hybridsync.core.values import Values


def apply_import(
    current: CSObject,
    anchor: str,
    dn: str,
    object_type: str,
    attributes: Mapping[str, Values],
) -> CSObject | None:
    """The object after the import, or ``None`` when nothing changed at all."""
    expected = current.effective_attributes()
    unchanged = dn == current.dn and _same(expected, attributes)
    pending = current.pending_import
    if pending is PendingImport.DELETE or (not unchanged and pending is PendingImport.NONE):
        pending = PendingImport.UPDATE
    if (
        unchanged
        and not current.unconfirmed
        and pending is current.pending_import
        and anchor == current.anchor
        and _same(current.attributes, attributes)
    ):
        return None
    return replace(
        current,
        anchor=anchor,
        dn=dn,
        object_type=object_type or current.object_type,
        attributes=dict(attributes),
        unconfirmed={},
        pending_import=pending,
    )


def _same(left: Mapping[str, Values], right: Mapping[str, Values]) -> bool:
    names = {name for name, values in left.items() if values} | {
        name for name, values in right.items() if values
    }
    return all(same_values(left.get(name, ()), right.get(name, ())) for name in names)
