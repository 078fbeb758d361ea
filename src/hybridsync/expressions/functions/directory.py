"""Directory functions: DNComponent, DNComponentRev, EscapeDNComponent."""

from __future__ import annotations

import re

from hybridsync.expressions.coerce import fail, per_value, to_enum, to_number, to_text
from hybridsync.expressions.signatures import FunctionSpec, function
from hybridsync.expressions.values import Reference

_HEX_PAIR = re.compile(r"\\([0-9A-Fa-f]{2})|\\(.)")
_SPECIAL = set(',+"\\<>;=')


def split_dn(dn: str) -> list[tuple[str, str]]:
    """The (type, raw value) of each RDN of ``dn``, left to right; escapes kept."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in dn:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char in ",;":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    rdns = []
    for part in parts:
        kind, equals, value = part.partition("=")
        if not equals:
            fail(f"not a distinguished name: {dn!r}")
        rdns.append((kind.strip(), value.strip()))
    return rdns


def unescape_value(value: str) -> str:
    """An RDN value with its escapes (``\\,`` and ``\\4A`` hex pairs) resolved."""
    if "\\" not in value:
        return value
    data = bytearray()
    position = 0
    for match in _HEX_PAIR.finditer(value):
        data += value[position : match.start()].encode("utf-8")
        data += bytes.fromhex(match.group(1)) if match.group(1) else match.group(2).encode()
        position = match.end()
    data += value[position:].encode("utf-8")
    return data.decode("utf-8", errors="replace")


def _component(dn: str, number: int, from_right: bool, skip_dc: bool) -> str | None:
    rdns = [rdn for rdn in split_dn(dn) if not (skip_dc and rdn[0].lower() == "dc")]
    if from_right:
        rdns.reverse()
    if not 1 <= number <= len(rdns):
        return None
    return unescape_value(rdns[number - 1][1])


def _dn_text(value: object) -> object:
    if isinstance(value, Reference):
        return value.dn
    return value


def dn_component(dn: object, number: object) -> object:
    return per_value(_component, _dn_text(dn), to_number(number, "component number"), False, False)


def dn_component_rev(dn: object, number: object, option: object = None) -> object:
    skip_dc = option is not None and to_enum(option, ("DC",), "option") == "DC"
    return per_value(_component, _dn_text(dn), to_number(number, "component number"), True, skip_dc)


def escape_value(value: str) -> str:
    """Escape one RDN value as RFC 4514 requires."""
    out = []
    for index, char in enumerate(value):
        edge = (index == 0 and char in " #") or (index == len(value) - 1 and char == " ")
        if char in _SPECIAL or edge:
            out.append("\\" + char)
        elif char == "\0":
            out.append("\\00")
        else:
            out.append(char)
    return "".join(out)


def _escape_component(text: str) -> str:
    # The documented use passes "cn=" & value: escape the value part only.
    kind, equals, value = text.partition("=")
    if equals and re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", kind.strip()):
        return f"{kind.strip()}={escape_value(value)}"
    return escape_value(text)


def escape_dn_component(value: object) -> object:
    return per_value(_escape_component, _dn_text(value))


def ref_text(value: object) -> str:
    return to_text(_dn_text(value))


FUNCTIONS: tuple[FunctionSpec, ...] = (
    function(
        "DNComponent", "Directory", "str", ("ref", "num"),
        implementation=dn_component, maps=True,
    ),
    function(
        "DNComponentRev", "Directory", "str", ("ref", "num"), ("ref", "num", "enum"),
        implementation=dn_component_rev, maps=True,
    ),
    function(
        "EscapeDNComponent", "Directory", "str", ("str",),
        implementation=escape_dn_component, maps=True,
    ),
)  # fmt: skip
