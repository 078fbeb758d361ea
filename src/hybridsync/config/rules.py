"""Rule files (TOML) into a validated, compiled :class:`RuleSet`.

Every problem is a :class:`ConfigError` naming the file, the line when it can be
found, the rule and the field. Expressions are compiled here, at load time.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hybridsync.config.rule_model import FlowModel, RuleFileModel, RuleModel
from hybridsync.core.rules import (
    MEMBERSHIP_OPERATORS,
    AttributeFlow,
    Direction,
    FlowType,
    JoinClause,
    JoinGroup,
    RuleSet,
    ScopeClause,
    ScopeGroup,
    ScopeOperator,
    SyncRule,
    connector_object_type,
    is_synced_object_type,
)
from hybridsync.errors import ConfigError, ExpressionSyntaxError, os_error_reason


@dataclass(frozen=True, slots=True)
class RuleSource:
    """TOML text and where it came from (a path, or ``builtin:<name>``)."""

    origin: str
    text: str

    @classmethod
    def from_path(cls, path: Path) -> RuleSource:
        try:
            return cls(str(path), path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(
                f"cannot read rule file: {os_error_reason(exc)}", source=str(path)
            ) from exc


def load_rules(sources: Sequence[RuleSource], extra: Iterable[RuleModel] = ()) -> RuleSet:
    """Parse, validate and compile every rule; names must be unique across files."""
    models = _rule_models(sources, extra)
    seen: dict[str, str] = {}
    rules: list[SyncRule] = []
    for source, model in models:
        if model.name in seen:
            raise ConfigError(
                f"rule {model.name!r} is defined twice (also in {seen[model.name]})",
                source=source.origin,
                line=_line_of(source.text, model.name),
            )
        seen[model.name] = source.origin
        rules.append(build_rule(model, source))
    return RuleSet.of(rules, content_hash(model for _, model in models))


def rules_content_hash(sources: Sequence[RuleSource], extra: Iterable[RuleModel] = ()) -> str:
    """The :attr:`RuleSet.content_hash` of the rules :func:`load_rules` would build, from
    the parsed rules alone: nothing is compiled (``hybridsync status`` compares it)."""
    return content_hash(model for _, model in _rule_models(sources, extra))


def inert_rules(sources: Sequence[RuleSource], extra: Iterable[RuleModel] = ()) -> dict[str, int]:
    """Rules for connector-space object types no connector syncs, counted by that type
    (case as written). They load and stay inert: ``hybridsync status`` says so."""
    counts: dict[str, int] = {}
    for _, model in _rule_models(sources, extra):
        kind = connector_object_type(
            model.direction, model.source_object_type, model.target_object_type
        )
        if not is_synced_object_type(kind):
            counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))


def _rule_models(
    sources: Sequence[RuleSource], extra: Iterable[RuleModel]
) -> list[tuple[RuleSource, RuleModel]]:
    models: list[tuple[RuleSource, RuleModel]] = []
    for source in sources:
        models.extend((source, model) for model in parse_rule_file(source))
    models.extend((RuleSource("generated", ""), model) for model in extra)
    return models


def parse_rule_file(source: RuleSource) -> list[RuleModel]:
    try:
        data = tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"not valid TOML: {exc}", source=source.origin, line=getattr(exc, "lineno", None)
        ) from exc
    try:
        return RuleFileModel.model_validate(data).rule
    except ValidationError as exc:
        raise _validation_error(exc, data, source) from exc


def _validation_error(
    exc: ValidationError, data: Mapping[str, Any], source: RuleSource
) -> ConfigError:
    first = exc.errors()[0]
    location = list(first["loc"])
    rule_name = None
    if len(location) >= 2 and location[0] == "rule" and isinstance(location[1], int):
        rules = data.get("rule", [])
        if location[1] < len(rules) and isinstance(rules[location[1]], dict):
            rule_name = rules[location[1]].get("name")
        location = location[2:]
    field = ".".join(str(part) for part in location) or "(rule)"
    where = f"rule {rule_name!r}, " if rule_name else ""
    line = _line_of(source.text, rule_name) if rule_name else None
    return ConfigError(f"{where}field {field}: {first['msg']}", source=source.origin, line=line)


def rule_line(text: str, rule_name: str | None) -> int | None:
    """The line of ``name = "<rule_name>"`` in a rule file's text, if it is there."""
    return _line_of(text, rule_name)


def _line_of(text: str, rule_name: str | None) -> int | None:
    if not rule_name:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("name") and (
            f'"{rule_name}"' in stripped or f"'{rule_name}'" in stripped
        ):
            return number
    return None


def build_rule(model: RuleModel, source: RuleSource) -> SyncRule:
    _check_membership_clauses(model, source)
    return SyncRule(
        name=model.name,
        description=model.description,
        direction=Direction(model.direction),
        connector=model.connector,
        source_object_type=model.source_object_type,
        target_object_type=model.target_object_type,
        link_type=model.link_type,
        precedence=model.precedence,
        disabled=model.disabled,
        scope=tuple(
            ScopeGroup(
                tuple(
                    ScopeClause(c.attribute, ScopeOperator.parse(c.operator), _text(c.value))
                    for c in group.clauses
                )
            )
            for group in model.scope
        ),
        join=tuple(
            JoinGroup(
                tuple(JoinClause(c.source, c.target, c.case_sensitive) for c in group.clauses)
            )
            for group in model.join
        ),
        flows=tuple(_flow(model, flow, source) for flow in model.flow),
        password_sync=model.password_sync,
        from_targets=model.from_targets,
        origin=source.origin,
    )


def _check_membership_clauses(model: RuleModel, source: RuleSource) -> None:
    """ISMEMBEROF names a group of the connector space: only inbound rules have one."""
    if model.direction != "outbound":
        return
    for group in model.scope:
        for clause in group.clauses:
            operator = ScopeOperator.parse(clause.operator)
            if operator in MEMBERSHIP_OPERATORS:
                raise ConfigError(
                    f"rule {model.name!r}, scope on {clause.attribute!r}: {operator.value} "
                    "tests membership in a group of the connector space; it works in inbound "
                    "rules only",
                    source=source.origin,
                    line=_line_of(source.text, model.name),
                )


def _text(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _flow(rule: RuleModel, flow: FlowModel, source: RuleSource) -> AttributeFlow:
    def fail(message: str) -> ConfigError:
        return ConfigError(
            f"rule {rule.name!r}, flow to {flow.target!r}: {message}",
            source=source.origin,
            line=_line_of(source.text, rule.name),
        )

    sources = flow.source_list()
    allowed = tuple(flow.allowed_values or ())
    if flow.type is FlowType.DIRECT:
        if len(sources) != 1:
            raise fail("a Direct flow needs exactly one source attribute")
        return AttributeFlow(
            flow.target,
            flow.type,
            sources,
            apply_once=flow.apply_once,
            merge_type=flow.merge,
            allowed_values=allowed,
        )
    if flow.type is FlowType.CONSTANT:
        if flow.value is None:
            raise fail("a Constant flow needs a value")
        return AttributeFlow(
            flow.target,
            flow.type,
            constant=flow.value,
            apply_once=flow.apply_once,
            merge_type=flow.merge,
            allowed_values=allowed,
        )
    if not flow.expression:
        raise fail("an Expression flow needs an expression")
    # Compiling loads the parser: only building a rule set needs it, not its hash.
    from hybridsync.expressions import compile_expression

    try:
        compiled = compile_expression(flow.expression)
    except ExpressionSyntaxError as exc:
        raise fail(f"the expression does not compile: {exc}") from exc
    return AttributeFlow(
        flow.target,
        flow.type,
        tuple(sorted(compiled.referenced_attributes)) or sources,
        expression=compiled,
        expression_text=flow.expression,
        apply_once=flow.apply_once,
        merge_type=flow.merge,
        allowed_values=allowed,
    )


def content_hash(models: Iterable[RuleModel]) -> str:
    """A hash of the rule set's content: a different hash requires a full sync."""
    canonical = sorted(json.dumps(m.model_dump(mode="json"), sort_keys=True) for m in models)
    return hashlib.sha256("\n".join(canonical).encode("utf-8")).hexdigest()[:32]
