"""A small TOML writer for the shapes a migration writes (tables of scalars and lists)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence


def value_toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if _literal_block(value):
            # TOML drops the newline right after the opening quotes: the value stays exact.
            return "'''\n" + value + "'''"
        # JSON strings are valid TOML basic strings (same escapes, \\uXXXX included).
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)} = {value_toml(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    if isinstance(value, Sequence):
        return "[" + ", ".join(value_toml(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _literal_block(value: str) -> bool:
    """A multi-line value that a ''' literal string holds exactly (it has no escapes)."""
    printable = all(ch in "\n\t" or (ch >= " " and ch != "\x7f") for ch in value)
    return "\n" in value and "'''" not in value and not value.endswith("'") and printable


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


def rule_toml(table: Mapping[str, object], connect_id: str, immutable_tag: str) -> str:
    """One ``[[rule]]`` with its scope, join and flow sub-tables.

    The Connect id and immutable tag are comments: the rule model has no field for them,
    and a comment keeps every rule traceable to the Connect rule it came from.
    """
    lines = [
        f"# Connect rule id: {connect_id}",
        f"# immutable tag: {immutable_tag or '(none)'}",
        "[[rule]]",
    ]
    nested = ("scope", "join", "flow")
    for key, value in table.items():
        if key not in nested:
            lines.append(f"{key} = {value_toml(value)}")
    for key in ("scope", "join"):
        for group in _sequence(table.get(key)):
            assert isinstance(group, Mapping)
            clauses = _sequence(group["clauses"])
            lines.append(f"\n[[rule.{key}]]")
            lines.append("clauses = [")
            lines.extend(f"  {value_toml(clause)}," for clause in clauses)
            lines.append("]")
    for flow in _sequence(table.get("flow")):
        assert isinstance(flow, Mapping)
        lines.append("\n[[rule.flow]]")
        lines.extend(f"{k} = {value_toml(v)}" for k, v in flow.items())
    return "\n".join(lines) + "\n"


def _sequence(value: object) -> Sequence[object]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return value
    return ()


def document_toml(tables: Mapping[str, object]) -> str:
    """Top-level keys, then ``[table]``s and ``[[array]]``s of flat tables."""
    lines: list[str] = []
    for key, value in tables.items():
        if not isinstance(value, Mapping) and not _is_table_array(value):
            lines.append(f"{key} = {value_toml(value)}")
    for key, value in tables.items():
        if isinstance(value, Mapping):
            lines.append(f"\n[{key}]")
            lines.extend(f"{k} = {value_toml(v)}" for k, v in value.items())
        elif _is_table_array(value):
            for item in _sequence(value):
                assert isinstance(item, Mapping)
                lines.append(f"\n[[{key}]]")
                lines.extend(f"{k} = {value_toml(v)}" for k, v in item.items())
    return "\n".join(lines) + "\n"


def _is_table_array(value: object) -> bool:
    items = _sequence(value)
    return bool(items) and all(isinstance(item, Mapping) for item in items)
