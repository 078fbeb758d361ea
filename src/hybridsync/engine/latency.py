"""From a source's change to its export: the times a cycle carries along.

A delta import notes when each changed object changed (``ImportedObject.changed_at``);
the sync that links it to its metaverse object hands the time over to that object; the
export that sends the metaverse object's change to a target ends the interval, one per
exported change (``RunReport.change_latencies``). Held in memory for one cycle only: a
change the cycle does not export (out of scope, nothing to send) is forgotten with it.
"""

from __future__ import annotations

import time

__all__ = ["ChangeTimes"]


class ChangeTimes:
    """The change times of the objects a cycle imported, by anchor, then by MV object."""

    def __init__(self) -> None:
        self._imported: dict[tuple[str, str], float] = {}
        self._linked: dict[str, float] = {}

    def imported(self, connector: str, anchor: str, changed_at: float) -> None:
        key = (connector, anchor)
        self._imported[key] = min(changed_at, self._imported.get(key, changed_at))

    def linked(self, connector: str, anchor: str | None, mv_id: str | None) -> None:
        """The object is (still) linked to ``mv_id``: its change time goes there."""
        if anchor is None or mv_id is None or not self._imported:
            return
        changed_at = self._imported.pop((connector, anchor), None)
        if changed_at is not None:
            self._linked[mv_id] = min(changed_at, self._linked.get(mv_id, changed_at))

    def exported(self, mv_id: str | None) -> float | None:
        """Seconds from the change to now, once per target object exported for it."""
        changed_at = self._linked.get(mv_id) if mv_id is not None else None
        if changed_at is None:
            return None
        return max(0.0, time.time() - changed_at)  # the DC's clock may run ahead

    def clear(self) -> None:
        self._imported.clear()
        self._linked.clear()
