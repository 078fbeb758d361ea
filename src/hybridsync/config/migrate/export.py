"""A server configuration export of Entra Connect, read as plain data.

The folder holds ``Connectors/Connector_{id}.xml``, ``GlobalSettings/*.xml`` and
``SynchronizationRules/SynchronizationRule_{id}.xml``. Every problem is a
:class:`ConfigError` naming the file and, for malformed XML, the line.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from hybridsync.errors import ConfigError, os_error_reason

EMPTY_GUID = "{00000000-0000-0000-0000-000000000000}"


@dataclass(frozen=True, slots=True)
class ScopeCondition:
    """One scoping condition of a rule, as the export writes it."""

    attribute: str
    operator: str
    value: str


@dataclass(frozen=True, slots=True)
class JoinCondition:
    """One join condition of a rule: source attribute equals target attribute."""

    source: str
    target: str
    case_sensitive: bool


@dataclass(frozen=True, slots=True)
class Mapping:
    """One attribute flow: sources, an expression (or none: a direct flow), merge type."""

    target: str
    sources: tuple[str, ...]
    expression: str | None
    merge_type: str
    execute_once: bool = False
    constant: str | None = None
    """The value of a constant flow (``<src>value</src>``, no attribute)."""


@dataclass(frozen=True, slots=True)
class ConnectRule:
    """One synchronization rule of the export (``SynchronizationRule_{id}.xml``)."""

    id: str
    name: str
    description: str
    immutable_tag: str
    direction: str
    disabled: bool
    connector: str
    source_object_type: str
    target_object_type: str
    link_type: str
    precedence: int
    precedence_after: str
    precedence_before: str
    password_sync: bool
    scope: tuple[tuple[ScopeCondition, ...], ...]
    join: tuple[tuple[JoinCondition, ...], ...]
    mappings: tuple[Mapping, ...]
    origin: str

    @property
    def is_microsoft(self) -> bool:
        return self.immutable_tag.startswith("Microsoft.")


@dataclass(frozen=True, slots=True)
class Partition:
    """One directory partition of a connector, with its containers and object classes."""

    name: str
    selected: bool
    inclusions: tuple[str, ...]
    exclusions: tuple[str, ...]
    object_classes: tuple[str, ...]
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Connector:
    """One connector of the export (``Connector_{id}.xml``)."""

    id: str
    name: str
    category: str
    subtype: str
    forest: str
    login_user: str
    login_domain: str
    partitions: tuple[Partition, ...]
    attribute_inclusion: tuple[str, ...]
    origin: str

    @property
    def is_active_directory(self) -> bool:
        return self.category == "AD"

    @property
    def is_entra(self) -> bool:
        return "Azure Active Directory" in self.subtype or "Entra" in self.subtype


@dataclass(frozen=True, slots=True)
class ServerExport:
    """A whole server configuration export: its connectors, rules and global settings."""

    path: Path
    connectors: tuple[Connector, ...]
    rules: tuple[ConnectRule, ...]
    global_settings: tuple[str, ...]
    """The files of ``GlobalSettings/`` that were read (metaverse schema and options)."""

    def connector(self, connector_id: str) -> Connector | None:
        wanted = connector_id.lower()
        return next((c for c in self.connectors if c.id.lower() == wanted), None)


def read_server_export(path: Path) -> ServerExport:
    """Read the whole export; a missing folder or malformed file is a ConfigError."""
    if not path.is_dir():
        raise ConfigError("not a folder of an Entra Connect server export", source=str(path))
    connector_files = _files(path, "Connectors", "Connector_*.xml")
    rule_files = _files(path, "SynchronizationRules", "SynchronizationRule_*.xml")
    settings_files = sorted((path / "GlobalSettings").glob("*.xml"))
    for settings_file in settings_files:
        parse_xml(settings_file)
    return ServerExport(
        path=path,
        connectors=tuple(read_connector(f) for f in connector_files),
        rules=tuple(read_rule(f) for f in rule_files),
        global_settings=tuple(f.name for f in settings_files),
    )


def _files(root: Path, folder: str, pattern: str) -> list[Path]:
    directory = root / folder
    if not directory.is_dir():
        raise ConfigError(f"the export has no {folder}/ folder", source=str(root))
    found = sorted(directory.glob(pattern))
    if not found:
        raise ConfigError(f"no {pattern} files in {folder}/", source=str(directory))
    return found


def parse_xml(path: Path) -> ET.Element:
    """Parse one file; DTDs are refused (an export never has one; entities can explode)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read file: {os_error_reason(exc)}", source=str(path)) from exc
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ConfigError("document type declarations are not accepted", source=str(path))
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        line, _column = exc.position
        raise ConfigError(f"malformed XML: {exc}", source=str(path), line=line) from exc


def _required(element: ET.Element, tag: str, origin: Path) -> str:
    found = element.find(tag)
    if found is None:
        raise ConfigError(f"<{element.tag}> has no <{tag}> element", source=str(origin))
    return (found.text or "").strip()


def _text(element: ET.Element, tag: str) -> str:
    return (element.findtext(tag) or "").strip()


def read_rule(path: Path) -> ConnectRule:
    root = parse_xml(path)
    if root.tag != "synchronizationRule":
        raise ConfigError(
            f"expected a <synchronizationRule> document, found <{root.tag}>", source=str(path)
        )
    name = _required(root, "name", path)
    precedence_text = _required(root, "precedence", path)
    try:
        precedence = int(precedence_text)
    except ValueError:
        raise ConfigError(
            f"rule {name!r}: precedence {precedence_text!r} is not a number", source=str(path)
        ) from None
    return ConnectRule(
        id=_required(root, "id", path),
        name=name,
        description=_text(root, "description"),
        immutable_tag=_text(root, "immutable-tag"),
        direction=_required(root, "direction", path),
        disabled=_text(root, "disabled").lower() == "true",
        connector=_required(root, "connector", path),
        source_object_type=_required(root, "sourceObjectType", path),
        target_object_type=_required(root, "targetObjectType", path),
        link_type=_required(root, "linkType", path),
        precedence=precedence,
        precedence_after=_text(root, "precedence-after") or EMPTY_GUID,
        precedence_before=_text(root, "precedence-before") or EMPTY_GUID,
        password_sync=_text(root, "EnablePasswordSync").lower() == "true",
        scope=tuple(
            tuple(
                ScopeCondition(
                    _text(s, "csAttribute"), _text(s, "csOperator"), s.findtext("csValue") or ""
                )
                for s in group.findall("scope")
            )
            for group in root.findall("synchronizationCriteria/conditions")
        ),
        join=tuple(
            tuple(
                JoinCondition(
                    _text(c, "csAttribute"),
                    _text(c, "ilmAttribute"),
                    _text(c, "caseSensitive").lower() == "true",
                )
                for c in group.findall("condition")
            )
            for group in root.findall("relationshipCriteria/conditions")
        ),
        mappings=tuple(_mapping(m) for m in root.findall("attribute-mappings/mapping")),
        origin=str(path),
    )


def _mapping(element: ET.Element) -> Mapping:
    expression = element.findtext("expression")
    source = element.find("src")
    is_constant = source is not None and not list(source) and bool(_clean(source.text))
    return Mapping(
        target=_text(element, "dest"),
        sources=tuple((a.text or "").strip() for a in element.findall("src/attr")),
        expression=expression.strip() if expression is not None else None,
        merge_type=_text(element, "valueMergeType") or "Update",
        execute_once=_text(element, "executeOnce").lower() == "true",
        constant=_clean(source.text) if is_constant and source is not None else None,
    )


def read_connector(path: Path) -> Connector:
    root = parse_xml(path)
    if root.tag != "ma-data":
        raise ConfigError(f"expected an <ma-data> document, found <{root.tag}>", source=str(path))
    adma = root.find("private-configuration/adma-configuration")
    return Connector(
        id=_required(root, "id", path),
        name=_required(root, "name", path),
        category=_text(root, "category"),
        subtype=_text(root, "subtype"),
        forest=_text(adma, "forest-name") if adma is not None else "",
        login_user=_text(adma, "forest-login-user") if adma is not None else "",
        login_domain=_text(adma, "forest-login-domain") if adma is not None else "",
        partitions=tuple(_partition(p) for p in root.findall("ma-partition-data/partition")),
        attribute_inclusion=tuple(
            (a.text or "").strip() for a in root.findall("attribute-inclusion/attribute")
        ),
        origin=str(path),
    )


def _partition(element: ET.Element) -> Partition:
    containers = "filter/containers"
    return Partition(
        name=_text(element, "name"),
        selected=_text(element, "selected") == "1",
        inclusions=tuple(
            t for t in (_clean(i.text) for i in element.findall(f"{containers}/inclusions/*")) if t
        ),
        exclusions=tuple(
            t for t in (_clean(e.text) for e in element.findall(f"{containers}/exclusions/*")) if t
        ),
        object_classes=tuple(
            _clean(o.text) for o in element.findall("filter/object-classes/object-class")
        ),
        parameters={
            p.get("name", ""): _clean(p.text) for p in element.findall("parameter-values/parameter")
        },
    )


def _clean(text: str | None) -> str:
    return (text or "").strip()
