"""Reference values between namespaces: directory DN -> metaverse id -> target id."""

from __future__ import annotations

from hybridsync.core.references import (
    held,
    held_mv_id,
    resolve_held,
    to_metaverse,
    to_target,
)
from hybridsync.core.values import Reference, Values


class View:
    """Connector spaces as two dictionaries."""

    def __init__(self) -> None:
        self.joined = {("ad", "cn=boss,dc=contoso,dc=com"): "mv-boss"}
        self.anchors = {("cloud", "mv-boss"): "cloud-boss"}
        self.asked: list[str] = []

    def source_mv(self, connector: str, dn: str) -> str | None:
        self.asked.append(dn)
        return self.joined.get((connector, dn.lower()))

    def target_anchor(self, connector: str, mv_id: str) -> str | None:
        return self.anchors.get((connector, mv_id))


def test_a_directory_reference_names_the_metaverse_object_joined_to_its_object() -> None:
    attributes: dict[str, Values] = {
        "manager": (Reference("CN=Boss,DC=contoso,DC=com"),),
        "member": (Reference("CN=boss,DC=contoso,DC=com"), Reference("CN=nobody,DC=x")),
    }
    resolved = to_metaverse(attributes, "ad", View(), ["manager", "member"])
    assert resolved["manager"] == (Reference("mv-boss"),)
    assert resolved["member"] == (Reference("mv-boss"),)  # a placeholder gives nothing


def test_attributes_without_references_are_returned_as_they_are_without_a_lookup() -> None:
    attributes: dict[str, Values] = {"displayName": ("Ann",), "department": ()}
    view = View()
    assert to_metaverse(attributes, "ad", view, ["manager"]) is attributes
    assert view.asked == []
    assert to_target(attributes, "cloud", view) is None


def test_a_metaverse_reference_names_the_target_id_or_is_held() -> None:
    attributes: dict[str, Values] = {"manager": (Reference("mv-boss"),), "x": (Reference("mv-2"),)}
    resolved = to_target(attributes, "cloud", View())
    assert resolved is not None
    assert resolved["manager"] == (Reference("cloud-boss"),)
    assert resolved["x"] == (held("mv-2"),)
    assert held_mv_id(resolved["x"][0]) == "mv-2"
    assert held_mv_id(Reference("cloud-boss")) is None
    assert held_mv_id("metaverse:mv-2") is None  # only a reference can be held


def test_held_references_resolve_once_their_objects_exist() -> None:
    view = View()
    values = (held("mv-boss"), Reference("cloud-other"))
    resolved = (Reference("cloud-boss"), Reference("cloud-other"))
    assert resolve_held(values, "cloud", view) == (resolved, True)
    # The values that exist can go now; the attribute stays held for the others.
    partial = resolve_held((held("mv-2"), held("mv-boss")), "cloud", view)
    assert partial == ((Reference("cloud-boss"),), False)
    assert resolve_held((held("mv-2"),), "cloud", view) == ((), False)
