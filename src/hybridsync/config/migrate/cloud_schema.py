"""Connect's Entra connector attributes as the Graph connector's user properties.

Connect's rules for the Entra connector name the attributes of Connect's own connector
space (``alias``, ``dnsDomainName``, ``onPremiseSecurityIdentifier``, ``sourceAnchor``, ...).
hybridsync's Graph connector holds a user as Microsoft Graph names it (``mailNickname``,
``onPremisesDomainName``, ``onPremisesSecurityIdentifier``, ``onPremisesImmutableId``) and
refuses to export an attribute it does not write. So a migrated user rule of the Entra
connector names Graph's properties; an outbound flow to an attribute Graph has no
property for is left out, and an inbound flow reading only such attributes is kept but
flows nothing. The report lists each one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hybridsync.connectors.graph.mapping import MANAGED_PROPERTIES, SYNC_MARKER, SYNCED_PROPERTIES

GRAPH_PROPERTIES = {name.lower(): name for name in (*MANAGED_PROPERTIES, *SYNCED_PROPERTIES)}

CONNECT_NAMES = {
    "alias": "mailNickname",
    "title": "jobTitle",
    "company": "companyName",
    "dnsdomainname": "onPremisesDomainName",
    "onpremisesecurityidentifier": "onPremisesSecurityIdentifier",
    "sourceanchor": "onPremisesImmutableId",
}
"""Connect's name (lower case) → the Graph property holding the same value."""

TEXT_SID = "onPremisesSecurityIdentifier"
"""Connect's connector holds the SID as bytes; Graph holds its text (``S-1-5-...``)."""

MAIL_NICKNAME = "mailNickname"

CONNECTOR_SPACE_DN = "dn"

_STRING_OR_REFERENCE = re.compile(r'"(?:[^"\\]|\\.)*"|\[([^\]]+)\]')
_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
_IMPORTED_VALUE = re.compile(r'(ImportedValue\(\s*)"([^"\\]*)"', re.IGNORECASE)


def graph_name(connect_name: str) -> str | None:
    """The Graph property for one of Connect's Entra connector attributes, if any."""
    key = connect_name.lower()
    return CONNECT_NAMES.get(key) or GRAPH_PROPERTIES.get(key)


def rename_references(expression: str, rename: Callable[[str], str]) -> str:
    """``expression`` with each ``[attribute]`` and ``ImportedValue("attribute")`` renamed.

    String literals are left alone, so ``"[alias]"`` as text stays as written.
    """

    def reference(match: re.Match[str]) -> str:
        name = match.group(1)
        return match.group(0) if name is None else f"[{rename(name)}]"

    def imported(match: re.Match[str]) -> str:
        return f'{match.group(1)}"{rename(match.group(2))}"'

    return _STRING_OR_REFERENCE.sub(reference, _IMPORTED_VALUE.sub(imported, expression))


def to_graph_user_rule(table: dict[str, object], direction: str) -> list[str]:
    """Rename the Entra connector's attributes of a user rule table to Graph's; return
    the changes, each with its reason."""
    if direction == "outbound":
        return _outbound(table)
    return _inbound(table)


def _flows(table: dict[str, object]) -> list[dict[str, object]]:
    flows = table["flow"]
    assert isinstance(flows, list)
    return flows


def _join_clauses(table: dict[str, object]) -> list[dict[str, object]]:
    groups = table["join"]
    assert isinstance(groups, list)
    return [clause for group in groups for clause in group["clauses"]]


def _outbound(table: dict[str, object]) -> list[str]:
    changes: list[str] = []
    kept: list[dict[str, object]] = []
    left_out: list[str] = []
    for flow in _flows(table):
        target = str(flow["target"])
        name = CONNECTOR_SPACE_DN if target == CONNECTOR_SPACE_DN else graph_name(target)
        if name is None:
            left_out.append(target)
            continue
        if name != target:
            flow["target"] = name
            changes.append(f"flow to {target!r} writes Graph's {name!r}")
        changes.extend(_as_graph_holds_it(flow, name))
        kept.append(flow)
    table["flow"] = kept
    for clause in _join_clauses(table):
        changes.extend(_rename_clause(clause, "target"))
    if left_out:
        names = ", ".join(repr(name) for name in left_out)
        changes.append(f"flows to {names} left out: the Graph connector has no such property")
    return changes


def _as_graph_holds_it(flow: dict[str, object], name: str) -> list[str]:
    """Rewrite the flows whose value Graph holds in another form; the changes."""
    if name not in (TEXT_SID, MAIL_NICKNAME):
        return []
    if not _reads_plain_names(flow):
        # Never spliced into an expression: a source name is not expression text.
        return [f"flow to {name!r}: its source is not an attribute name, kept as written"]
    if name == TEXT_SID:
        _as_text_sid(flow)
        return [f"flow to {name!r}: the SID as text (StringFromSid), as Graph holds it"]
    if flow["type"] != "Direct":
        return []
    _nickname_or_upn_prefix(flow)
    return [
        f"flow to {name!r}: the UPN's part before '@' when there is no alias, the value "
        "the cloud gives a user created without one"
    ]


def _reads_plain_names(flow: dict[str, object]) -> bool:
    """Whether a direct flow's source is an attribute name, safe to write as ``[name]``."""
    return flow["type"] != "Direct" or _PLAIN_NAME.fullmatch(str(flow["source"])) is not None


def _as_text_sid(flow: dict[str, object]) -> None:
    if flow["type"] == "Direct":
        source = str(flow.pop("source"))
        flow.update(type="Expression", expression=f"StringFromSid([{source}])", sources=[source])
    elif flow["type"] == "Expression":
        flow["expression"] = f"StringFromSid({flow['expression']})"


def _nickname_or_upn_prefix(flow: dict[str, object]) -> None:
    # The cloud requires an alias and derives one from the UPN when none is sent; the
    # connector never clears it. Flowing that same value keeps a user without an alias
    # from showing a change no export can make.
    source = str(flow.pop("source"))
    expression = (
        f"IIF(IsPresent([{source}]), [{source}], IIF(IsPresent([userPrincipalName]), "
        'Word([userPrincipalName], 1, "@"), NULL))'
    )
    flow.update(type="Expression", expression=expression, sources=[source, "userPrincipalName"])


def _rename_clause(clause: dict[str, object], side: str) -> list[str]:
    connect_name = str(clause[side])
    name = graph_name(connect_name)
    if name is None or name == connect_name:
        return []
    clause[side] = name
    return [f"join on {connect_name!r} matches Graph's {name!r}"]


def _inbound(table: dict[str, object]) -> list[str]:
    changes: list[str] = []
    unread: list[str] = []
    for flow in _flows(table):
        sources = _flow_sources(flow)
        if sources and all(graph_name(source) is None for source in sources):
            # Kept as Connect wrote it: it flows nothing until the connector imports them.
            unread.append(str(flow["target"]))
            continue
        renamed = _rename_flow_sources(flow)
        changes.extend(f"flow to {flow['target']!r} reads Graph's {name!r}" for name in renamed)
    for clause in _join_clauses(table):
        changes.extend(_rename_clause(clause, "source"))
    for clause in _scope_clauses(table):
        changes.extend(_synced_for_cloud_mastered(clause))
    if unread:
        names = ", ".join(repr(name) for name in unread)
        changes.append(
            f"flows to {names} read only attributes the Graph connector does not import: "
            "they flow nothing"
        )
    return changes


def _scope_clauses(table: dict[str, object]) -> list[dict[str, object]]:
    groups = table["scope"]
    assert isinstance(groups, list)
    return [clause for group in groups for clause in group["clauses"]]


_CLOUD_MASTERED = {("EQUAL", "false"): "EQUAL", ("NOTEQUAL", "true"): "EQUAL",
                   ("EQUAL", "true"): "NOTEQUAL", ("NOTEQUAL", "false"): "NOTEQUAL"}  # fmt: skip
"""Connect's ``cloudMastered`` test (operator, value) → the operator on Graph's
``onPremisesSyncEnabled`` with the value ``True``: a user Connect's connector does not
call cloud-mastered is one Graph marks as synced from on-premises."""


def _synced_for_cloud_mastered(clause: dict[str, object]) -> list[str]:
    if str(clause["attribute"]).lower() != "cloudmastered":
        return []
    operator = _CLOUD_MASTERED.get((str(clause["operator"]).upper(), str(clause["value"]).lower()))
    if operator is None:
        return []
    before = f"{clause['attribute']} {clause['operator']} {clause['value']}"
    clause.update(attribute=SYNC_MARKER, operator=operator, value="True")
    return [f"scope {before!r} tests Graph's '{SYNC_MARKER} {operator} True'"]


def _flow_sources(flow: dict[str, object]) -> list[str]:
    if flow["type"] == "Direct":
        return [str(flow["source"])]
    sources = flow.get("sources", [])
    assert isinstance(sources, list)
    return [str(source) for source in sources]


def _renamed(name: str) -> str:
    return graph_name(name) or name


def _rename_flow_sources(flow: dict[str, object]) -> list[str]:
    """Rename the flow's sources in place; the Graph names it now reads."""
    before = _flow_sources(flow)
    if flow["type"] == "Direct":
        flow["source"] = _renamed(before[0])
    elif flow["type"] == "Expression":
        flow["expression"] = rename_references(str(flow["expression"]), _renamed)
        if "sources" in flow:
            flow["sources"] = [_renamed(source) for source in before]
    return sorted({_renamed(name) for name in before if _renamed(name) != name})
