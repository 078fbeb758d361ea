"""Reference attributes: values that name other objects (``manager``, ``member``).

A :class:`~hybridsync.core.values.Reference` names another object in the namespace of
the place that holds it:

- in a directory's connector space (AD, LDIF): the referenced object's DN, as the
  directory wrote it; the object may not be imported yet (a placeholder);
- in the metaverse: the id of the referenced metaverse object, so renaming or moving the
  referenced user changes nothing in the metaverse (and nothing is exported again);
- in a target's connector space (the cloud): the target's own id of the object (its
  anchor, the cloud object id).

Inbound, a reference becomes one to the metaverse object joined to the referenced
connector-space object (:func:`to_metaverse`); a referenced object that is not imported,
not joined or joined by an outbound rule gives no value. Outbound, a metaverse reference
becomes the anchor of the target object linked to that metaverse object
(:func:`to_target`); when that object has no anchor yet (it is not created, or not
even provisioned), the value is *held*: it stays in the pending export as :func:`held`
and the export sends it once the referenced object exists (``engine/export.py``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from hybridsync.core.values import AttributeValue, Reference, Values

HELD_PREFIX = "metaverse:"
"""Marks a held reference: the metaverse object it names has no id in the target yet."""


def held(mv_id: str) -> Reference:
    """The held form of a reference to metaverse object ``mv_id`` (see the module doc)."""
    return Reference(HELD_PREFIX + mv_id)


def held_mv_id(value: object) -> str | None:
    """The metaverse id a held reference names; ``None`` for any other value."""
    if type(value) is Reference and value.dn.startswith(HELD_PREFIX):
        return value.dn[len(HELD_PREFIX) :]
    return None


def has_references(values: Values) -> bool:
    """Whether an attribute holds references (a directory types them all alike)."""
    return bool(values) and type(values[0]) is Reference


class ReferenceView(Protocol):
    """What resolving references needs to know about the connector spaces."""

    def source_mv(self, connector: str, dn: str) -> str | None:
        """The metaverse object joined (by an inbound rule) to the object at ``dn``
        (compared ignoring case); ``None`` when there is none."""
        ...

    def target_anchor(self, connector: str, mv_id: str) -> str | None:
        """The anchor of ``connector``'s object linked to metaverse object ``mv_id``;
        ``None`` when it has no object there or the object is not created yet."""
        ...


def to_metaverse(
    attributes: Mapping[str, Values],
    connector: str,
    view: ReferenceView,
    names: Collection[str],
) -> Mapping[str, Values]:
    """A source object's reference attributes ``names`` (those its rules read) turned
    into references to the metaverse objects joined to the referenced objects;
    references that resolve to nothing are left out. ``attributes`` itself when it
    holds none of them."""
    resolved: dict[str, Values] | None = None
    for name in names:
        values = attributes.get(name, ())
        if not has_references(values):
            continue
        if resolved is None:
            resolved = dict(attributes)
        found = (view.source_mv(connector, str(value)) for value in values)
        resolved[name] = tuple(Reference(mv_id) for mv_id in found if mv_id is not None)
    return attributes if resolved is None else resolved


def to_target(
    attributes: Mapping[str, Values], connector: str, view: ReferenceView
) -> dict[str, Values] | None:
    """A target's desired attributes with each metaverse reference turned into the
    target's id of the object, or held (see the module doc); ``None`` when they hold no
    reference, so the caller keeps its own dictionary."""
    resolved: dict[str, Values] | None = None
    for name, values in attributes.items():
        if not values or type(values[0]) is not Reference:  # has_references, inlined: hot
            continue
        if resolved is None:
            resolved = dict(attributes)
        resolved[name] = tuple(_in_target(str(value), connector, view) for value in values)
    return resolved


def _in_target(mv_id: str, connector: str, view: ReferenceView) -> Reference:
    anchor = view.target_anchor(connector, mv_id)
    return held(mv_id) if anchor is None else Reference(anchor)


def resolve_held(values: Values, connector: str, view: ReferenceView) -> tuple[Values, bool]:
    """Held references of a pending export resolved, now that their objects may exist:
    the values that can be sent, and whether that is all of them.

    A value whose object still has no id in the target is left out; the caller keeps the
    attribute pending and sends it whole once every object exists (a group gets the
    members that exist now, the others later; a user's one manager waits).
    """
    resolved: list[AttributeValue] = []
    for value in values:
        mv_id = held_mv_id(value)
        if mv_id is None:
            resolved.append(value)
            continue
        anchor = view.target_anchor(connector, mv_id)
        if anchor is not None:
            resolved.append(Reference(anchor))
    return tuple(resolved), len(resolved) == len(values)


def holds_references(values: Values) -> bool:
    """Whether any value is a reference (sent only once its object exists)."""
    return any(type(value) is Reference for value in values)
