"""A Synchronization Rules Editor export (a PowerShell script), read as data.

The script is never run. It is tokenized (backtick continuations, '...' with ''
escapes, "..." with `-escapes and "" escapes, @(...) arrays, $true/$false, $name[0]
references, switch parameters) and each cmdlet call is applied to the rule it names.
Unknown cmdlets and parameters are errors naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeAlias, TypeVar

from hybridsync.config.migrate.export import (
    EMPTY_GUID,
    ConnectRule,
    JoinCondition,
    Mapping,
    ScopeCondition,
)
from hybridsync.errors import ConfigError, os_error_reason


@dataclass(frozen=True, slots=True)
class Variable:
    name: str


Value: TypeAlias = str | bool | int | list["Value"] | Variable
Condition = TypeVar("Condition", ScopeCondition, JoinCondition)


@dataclass(slots=True)
class Call:
    cmdlet: str
    line: int
    parameters: dict[str, Value] = field(default_factory=dict)


_TOKEN = re.compile(
    r"""(?P<ws>[ \t]+|`\r?\n)
      | (?P<newline>\r?\n|;)
      | (?P<comment>\#[^\n]*)
      | (?P<single>'(?:[^']|'')*')
      | (?P<double>"(?:[^"`]|""|`.)*")
      | (?P<array>@\()
      | (?P<open>\()
      | (?P<close>\))
      | (?P<comma>,)
      | (?P<pipe>\|)
      | (?P<variable>\$[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])?)
      | (?P<parameter>-[A-Za-z][A-Za-z0-9]*:?)
      | (?P<word>[^\s'"(),|;`]+)
    """,
    re.VERBOSE | re.DOTALL,
)
_DOUBLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "`": "`", '"': '"', "$": "$"}


def _unquote_double(text: str) -> str:
    body = text[1:-1].replace('""', '"')
    return re.sub(r"`(.)", lambda m: _DOUBLE_ESCAPES.get(m.group(1), m.group(1)), body)


def tokenize(text: str, origin: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    position, line = 0, 1
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ConfigError(
                f"cannot read {text[position : position + 20]!r}", source=origin, line=line
            )
        kind = match.lastgroup or ""
        if kind not in ("ws", "comment"):
            tokens.append((kind, match.group(), line))
        line += match.group().count("\n")
        position = match.end()
    tokens.append(("newline", "", line))
    return tokens


def parse_calls(text: str, origin: str) -> list[Call]:
    tokens = tokenize(text, origin)
    calls: list[Call] = []
    index = 0
    while index < len(tokens):
        kind, value, line = tokens[index]
        if kind in ("newline", "pipe"):
            index += 1
            continue
        if kind != "word":
            raise ConfigError(f"expected a cmdlet, found {value!r}", source=origin, line=line)
        call = Call(value, line)
        index += 1
        while tokens[index][0] not in ("newline", "pipe"):
            kind, value, line = tokens[index]
            if kind != "parameter":
                raise ConfigError(
                    f"{call.cmdlet}: expected a -Parameter, found {value!r}",
                    source=origin,
                    line=line,
                )
            name = value.lstrip("-").rstrip(":")
            index += 1
            if tokens[index][0] in ("newline", "pipe", "parameter"):
                call.parameters[name] = True  # a switch
                continue
            call.parameters[name], index = _value(tokens, index, origin)
        calls.append(call)
    return calls


def _value(tokens: list[tuple[str, str, int]], index: int, origin: str) -> tuple[Value, int]:
    items: list[Value] = []
    while True:
        item, index = _single(tokens, index, origin)
        items.append(item)
        if tokens[index][0] != "comma":
            break
        index += 1
    return (items[0] if len(items) == 1 else items), index


def _single(tokens: list[tuple[str, str, int]], index: int, origin: str) -> tuple[Value, int]:
    kind, value, line = tokens[index]
    if kind == "single":
        return value[1:-1].replace("''", "'"), index + 1
    if kind == "double":
        return _unquote_double(value), index + 1
    if kind == "variable":
        lowered = value.lower()
        if lowered in ("$true", "$false"):
            return lowered == "$true", index + 1
        if lowered == "$null":
            return "", index + 1
        return Variable(value[1:].split("[")[0]), index + 1
    if kind == "array":
        index += 1
        items: list[Value] = []
        while tokens[index][0] in ("newline",):
            index += 1
        if tokens[index][0] != "close":
            found, index = _value(tokens, index, origin)
            items = found if isinstance(found, list) else [found]
        while tokens[index][0] == "newline":
            index += 1
        if tokens[index][0] != "close":
            raise ConfigError("@( is not closed", source=origin, line=line)
        return items, index + 1
    if kind == "word":
        return (int(value) if re.fullmatch(r"-?\d+", value) else value), index + 1
    raise ConfigError(f"unexpected {value!r}", source=origin, line=line)


_RULE_PARAMETERS = {
    "name", "identifier", "description", "direction", "precedence", "precedenceafter",
    "precedencebefore", "sourceobjecttype", "targetobjecttype", "connector", "linktype",
    "softdeleteexpiryinterval", "immutabletag", "outvariable", "enablepasswordsync",
    "disabled",
}  # fmt: skip
_KNOWN = {
    "new-adsyncrule": _RULE_PARAMETERS,
    "add-adsyncattributeflowmapping": {
        "synchronizationrule", "source", "destination", "flowtype", "valuemergetype",
        "expression", "outvariable", "executeonce",
    },
    "new-object": {"typename", "argumentlist", "outvariable"},
    "add-adsyncscopeconditiongroup": {"synchronizationrule", "scopeconditions", "outvariable"},
    "add-adsyncjoinconditiongroup": {"synchronizationrule", "joinconditions", "outvariable"},
    "add-adsyncrule": {"synchronizationrule"},
    "get-adsyncrule": {"identifier"},
    "out-null": set(),
}  # fmt: skip


@dataclass(slots=True)
class _Draft:
    rule: ConnectRule
    scope: list[tuple[ScopeCondition, ...]] = field(default_factory=list)
    join: list[tuple[JoinCondition, ...]] = field(default_factory=list)
    mappings: list[Mapping] = field(default_factory=list)


def read_editor_export(path: Path) -> list[ConnectRule]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = os_error_reason(exc) if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read file: {reason}", source=str(path)) from exc
    reader = _Reader(str(path))
    for call in parse_calls(text, str(path)):
        reader.apply(call)
    if reader.draft is not None:
        raise ConfigError(
            f"rule {reader.draft.rule.name!r} is never added (no Add-ADSyncRule)",
            source=str(path),
        )
    return reader.rules


@dataclass(slots=True)
class _Reader:
    origin: str
    rules: list[ConnectRule] = field(default_factory=list)
    draft: _Draft | None = None
    conditions: dict[str, ScopeCondition | JoinCondition] = field(default_factory=dict)

    def apply(self, call: Call) -> None:
        cmdlet = call.cmdlet.lower()
        known = _KNOWN.get(cmdlet)
        if known is None:
            raise ConfigError(f"unknown cmdlet {call.cmdlet!r}", source=self.origin, line=call.line)
        for name in call.parameters:
            if name.lower() not in known:
                raise ConfigError(
                    f"{call.cmdlet}: unknown parameter -{name}", source=self.origin, line=call.line
                )
        parameters = {k.lower(): v for k, v in call.parameters.items()}
        if cmdlet == "new-adsyncrule":
            self.draft = _Draft(_new_rule(parameters, f"{self.origin}:{call.line}"))
        elif cmdlet == "new-object":
            variable = _text(parameters, "outvariable")
            self.conditions[variable] = _condition(parameters, self.origin, call.line)
        elif cmdlet not in ("get-adsyncrule", "out-null"):
            self._change_rule(cmdlet, parameters, call)

    def _change_rule(self, cmdlet: str, parameters: dict[str, Value], call: Call) -> None:
        draft = self.draft
        if draft is None:
            raise ConfigError(
                f"{call.cmdlet} before New-ADSyncRule", source=self.origin, line=call.line
            )
        if cmdlet == "add-adsyncattributeflowmapping":
            draft.mappings.append(_mapping(parameters, self.origin, call.line))
        elif cmdlet == "add-adsyncscopeconditiongroup":
            draft.scope.append(self._group(parameters, "scopeconditions", ScopeCondition, call))
        elif cmdlet == "add-adsyncjoinconditiongroup":
            draft.join.append(self._group(parameters, "joinconditions", JoinCondition, call))
        else:  # add-adsyncrule
            self.rules.append(
                replace(
                    draft.rule,
                    scope=tuple(draft.scope),
                    join=tuple(draft.join),
                    mappings=tuple(draft.mappings),
                )
            )
            self.draft = None

    def _group(
        self, parameters: dict[str, Value], name: str, kind: type[Condition], call: Call
    ) -> tuple[Condition, ...]:
        """The conditions (made earlier by New-Object) that parameter ``name`` lists."""
        found = parameters.get(name, [])
        return _conditions(found, self.conditions, kind, self.origin, call.line)


def _text(parameters: dict[str, Value], name: str, default: str = "") -> str:
    value = parameters.get(name, default)
    return value if isinstance(value, str) else str(value)


def _guid(text: str) -> str:
    return text if text.startswith("{") or not text else "{" + text + "}"


def _new_rule(parameters: dict[str, Value], origin: str) -> ConnectRule:
    precedence = parameters.get("precedence", 0)
    if not isinstance(precedence, int):
        raise ConfigError(f"-Precedence {precedence!r} is not a number", source=origin)
    return ConnectRule(
        id=_guid(_text(parameters, "identifier")),
        name=_text(parameters, "name"),
        description=_text(parameters, "description"),
        immutable_tag=_text(parameters, "immutabletag"),
        direction=_text(parameters, "direction"),
        disabled=parameters.get("disabled") is True,
        connector=_guid(_text(parameters, "connector")),
        source_object_type=_text(parameters, "sourceobjecttype"),
        target_object_type=_text(parameters, "targetobjecttype"),
        link_type=_text(parameters, "linktype", "Join"),
        precedence=precedence,
        precedence_after=_guid(_text(parameters, "precedenceafter")) or EMPTY_GUID,
        precedence_before=_guid(_text(parameters, "precedencebefore")) or EMPTY_GUID,
        password_sync=parameters.get("enablepasswordsync") is True,
        scope=(),
        join=(),
        mappings=(),
        origin=origin,
    )


def _strings(value: Value) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(str(item) for item in items)


def _mapping(parameters: dict[str, Value], origin: str, line: int) -> Mapping:
    flow_type = _text(parameters, "flowtype", "Direct")
    sources = _strings(parameters.get("source", []))
    target = _text(parameters, "destination")
    merge_type = _text(parameters, "valuemergetype", "Update")
    once = parameters.get("executeonce") is True
    if flow_type == "Constant":
        if len(sources) != 1:
            raise ConfigError(
                f"constant flow to {target!r} needs one -Source", source=origin, line=line
            )
        return Mapping(target, (), None, merge_type, once, constant=sources[0])
    if flow_type == "Expression":
        return Mapping(target, sources, _text(parameters, "expression"), merge_type, once)
    if flow_type == "Direct":
        return Mapping(target, sources, None, merge_type, once)
    raise ConfigError(
        f"flow to {target!r}: unknown -FlowType {flow_type!r}", source=origin, line=line
    )


def _condition(
    parameters: dict[str, Value], origin: str, line: int
) -> ScopeCondition | JoinCondition:
    type_name = _text(parameters, "typename")
    arguments = parameters.get("argumentlist", [])
    values = arguments if isinstance(arguments, list) else [arguments]
    if type_name.endswith(".ScopeCondition") and len(values) == 3:
        attribute, value, operator = (str(v) for v in values)
        return ScopeCondition(attribute, operator, value)
    if type_name.endswith(".JoinCondition") and len(values) == 3:
        return JoinCondition(str(values[0]), str(values[1]), values[2] is True)
    raise ConfigError(
        f"New-Object {type_name!r} with {len(values)} arguments is not a scope or join condition",
        source=origin,
        line=line,
    )


def _conditions(
    value: Value,
    conditions: dict[str, ScopeCondition | JoinCondition],
    kind: type[Condition],
    origin: str,
    line: int,
) -> tuple[Condition, ...]:
    items = value if isinstance(value, list) else [value]
    group: list[Condition] = []
    for item in items:
        found = conditions.get(item.name) if isinstance(item, Variable) else None
        if not isinstance(found, kind):
            raise ConfigError(
                f"{item!r} is not a {kind.__name__} made by New-Object", source=origin, line=line
            )
        group.append(found)
    return tuple(group)
