"""A flow plan compiled to one Python function: straight-line code, one block per flow.

A sync runs the same few plans for every object. Generating their code once takes the
per-object work down to what each flow needs: a plain Direct flow is one ``get``, a
Constant flow a precomputed tuple, an Expression flow one call of its compiled function;
a target fed by a single Update flow (nearly all of them) is decided right there, and
the result comes out in the form the inbound and outbound code read
(:class:`~hybridsync.core.flows.FlowOutcome`), with no per-target objects. The rare
targets fed by several flows, or merged, go through :func:`resolve_target`, the code
behind :meth:`FlowPlan.run <hybridsync.core.flowplan.FlowPlan.run>`.

Attribute and rule names are data: the source text never contains them. Every value the
code needs is a global ``_kN`` (:mod:`hybridsync.expressions.generated`, shared with the
expression compiler and the scope generator).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import NamedTuple, cast

from hybridsync.core.convert import as_values, expression_input
from hybridsync.core.flows import (
    Contribution,
    FlowError,
    FlowOutcome,
    Kind,
    Resolved,
    flow_value,
    resolve_items,
)
from hybridsync.core.rules import AttributeFlow, FlowType, SyncRule
from hybridsync.core.values import Values
from hybridsync.errors import ExpressionEvalError, SyncError
from hybridsync.expressions import AUTHORITATIVE_NULL, IGNORE_THIS_FLOW
from hybridsync.expressions.generated import Constants, define

Step = tuple[SyncRule, AttributeFlow, str | None, bool]
"""A flow to run: its rule, the flow, its first source, whether it is a plain copy."""
RunPlan = Callable[[Mapping[str, Values], Collection[str], Mapping[str, str]], FlowOutcome]
"""A compiled plan: ``(attributes, multi_valued, parameters) -> FlowOutcome``."""
KIND = "flow plan"


class Target(NamedTuple):
    """A target attribute and the flows feeding it, by precedence."""

    name: str
    numbers: tuple[int, ...]
    """Step numbers of its flows, by precedence."""
    steps: tuple[Step, ...]
    """The same flows' steps."""
    updates_only: bool
    """Whether every flow merges as Update (or Replace)."""

    @property
    def simple(self) -> bool:
        """Fed by one Update flow: the common case, decided inline."""
        return self.updates_only and len(self.numbers) == 1


def resolve_target(
    target: Target,
    kinds: Sequence[Kind | None],
    values: Sequence[Values],
    conflicts: list[tuple[int, FlowError]],
) -> Resolved | None:
    """The outcome of a target from its flows' kinds and values, in precedence order
    (kind ``None``: the flow failed, as if it did not exist). ``None``: no flow ran, or
    the flows conflict (then ``conflicts`` gets the error, keyed by the first flow)."""
    if target.updates_only:
        return _updates(target, kinds, values)
    present = [
        Contribution(step[0], step[1], kind, found)
        for step, kind, found in zip(target.steps, kinds, values, strict=True)
        if kind is not None
    ]
    if not present:
        return None
    try:
        return resolve_items(present)
    except SyncError as exc:
        # reported in the order the targets' first contributions came
        first = min(n for n, kind in zip(target.numbers, kinds, strict=True) if kind is not None)
        conflicts.append((first, FlowError(present[0].rule.name, target.name, str(exc))))
        return None


def _updates(
    target: Target, kinds: Sequence[Kind | None], values: Sequence[Values]
) -> Resolved | None:
    """Update semantics, written out (``None``: none of the flows ran)."""
    ran = contributed = False
    for step, kind, found in zip(target.steps, kinds, values, strict=True):
        if kind is None:
            continue  # the flow failed: as if it did not exist
        ran = True
        if kind is Kind.IGNORE:
            continue
        contributed = True
        if kind is Kind.VALUE:
            return Resolved(found, step[0].name)
        if kind is Kind.AUTHORITATIVE_NULL:
            return Resolved((), step[0].name)
    return Resolved((), None, keep=not contributed) if ran else None


def _settle(
    target: Target,
    kinds: Sequence[Kind | None],
    values: Sequence[Values],
    outcome: FlowOutcome,
    conflicts: list[tuple[int, FlowError]],
) -> None:
    """Resolve a target the generic way and record it in ``outcome``."""
    resolved = resolve_target(target, kinds, values, conflicts)
    if resolved is None:
        return
    if resolved.keep:
        outcome.kept.append(target.name)
        return
    outcome.values[target.name] = resolved.values
    if resolved.rule:
        outcome.lineage[target.name] = resolved.rule


def in_order(conflicts: list[tuple[int, FlowError]]) -> list[FlowError]:
    """Conflicts in the order of their targets' first contributions."""
    return [conflict for _, conflict in sorted(conflicts, key=lambda item: item[0])]


_RUNTIME: dict[str, object] = {
    "_Outcome": FlowOutcome,
    "_FlowError": FlowError,
    "_EvalError": ExpressionEvalError,
    "_input": expression_input,
    "_as_values": as_values,
    "_flow_value": flow_value,
    "_settle": _settle,
    "_in_order": in_order,
    "_IGNORE": IGNORE_THIS_FLOW,
    "_AUTHORITATIVE_NULL": AUTHORITATIVE_NULL,
    "_VALUE": Kind.VALUE,
    "_NULL": Kind.NULL,
    "_KIND_AUTHORITATIVE_NULL": Kind.AUTHORITATIVE_NULL,
    "_KIND_IGNORE": Kind.IGNORE,
}


def compile_plan(
    steps: Sequence[Step], targets: Sequence[Target], *, needs_input: bool
) -> tuple[RunPlan, str]:
    """The plan's function and its source (for the curious and for debugging)."""
    writer = _Writer()
    writer.body(steps, targets, needs_input=needs_input)
    source = writer.source()
    run = define(source, "run", kind=KIND, runtime=_RUNTIME, constants=writer.constants)
    return cast(RunPlan, run), source


class _Writer:
    """Emits the body of one plan's function."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants = Constants()

    def const(self, value: object) -> str:
        """The global holding ``value`` (user data never enters the source)."""
        return self.constants.name(value)

    def emit(self, indent: int, *lines: str) -> None:
        self.lines.extend("    " * indent + line for line in lines)

    def source(self) -> str:
        # The body is written two levels in (``emit(2, ...)``): the function's own level.
        return "\n".join(["def run(_A, _M, _P):", *(line[4:] for line in self.lines), ""])

    def body(self, steps: Sequence[Step], targets: Sequence[Target], *, needs_input: bool) -> None:
        simple = {target.numbers[0]: target for target in targets if target.simple}
        last = {max(target.numbers): target for target in targets if not target.simple}
        merging = any(not target.updates_only for target in targets)
        self.emit(2, "_out = _Outcome({}, {}, [], [])", "_values = _out.values")
        self.emit(2, "_lineage = _out.lineage", "_errors = _out.errors")
        self.emit(2, "_src = _input(_A, _M)" if needs_input else "_src = None")
        if merging:
            self.emit(2, "_conflicts = []")
        order: list[str] = []
        for number, step in enumerate(steps):
            if number in simple:
                self._decide(step, simple[number].name)
                order.append(simple[number].name)
            else:
                self._evaluate(number, step)
            if number in last:
                self._settle(last[number])
                order.append(last[number].name)
        if order != [target.name for target in targets]:
            self._reorder(tuple(target.name for target in targets))
        if merging:
            self.emit(2, "if _conflicts:", "    _errors.extend(_in_order(_conflicts))")
        self.emit(2, "return _out")

    def _decide(self, step: Step, target: str) -> None:
        """One Update flow into ``target``: evaluate it and record the outcome."""
        rule, flow, first_source, plain = step
        name, rule_name = self.const(target), self.const(rule.name)
        lineage = f"_lineage[{name}] = {rule_name}" if rule.name else "pass"
        if plain:
            read = "()" if first_source is None else f"_A.get({self.const(first_source)}, ())"
            self.emit(2, f"_v = {read}", "if _v:", f"    _values[{name}] = _v")
            self.emit(3, lineage)
            self.emit(2, "else:", f"    _values[{name}] = ()")
            return
        if flow.flow_type is FlowType.CONSTANT and not flow.allowed_values:
            if flow.constant is None:
                self.emit(2, f"_values[{name}] = ()")
            else:
                self.emit(2, f"_values[{name}] = {self.const((flow.constant,))}", lineage)
            return
        self.emit(2, "try:")
        if flow.flow_type is FlowType.EXPRESSION and not flow.allowed_values:
            assert flow.expression is not None  # the loader compiles every Expression flow
            self.emit(3, f"_r = {self.const(flow.expression.evaluate)}(_src, _P)")
            self._on_error(rule_name, name, failed=())
            self.emit(2, "else:")
            self.emit(3, "if type(_r) is str:", f"    _values[{name}] = (_r,)", f"    {lineage}")
            self.emit(3, "elif _r is _IGNORE:", f"    _out.kept.append({name})")
            self.emit(3, "elif _r is _AUTHORITATIVE_NULL:", f"    _values[{name}] = ()")
            self.emit(4, lineage)
            self.emit(3, "else:", "    _v = _as_values(_r)", f"    _values[{name}] = _v")
            self.emit(4, "if _v:", f"    {lineage}")
            return
        self.emit(3, f"_kind, _v = _flow_value({self.const(flow)}, _A, _src, _P)")
        self._on_error(rule_name, name, failed=())
        self.emit(2, "else:")
        self.emit(3, "if _kind is _VALUE:", f"    _values[{name}] = _v", f"    {lineage}")
        self.emit(3, "elif _kind is _NULL:", f"    _values[{name}] = ()")
        self.emit(3, "elif _kind is _KIND_AUTHORITATIVE_NULL:", f"    _values[{name}] = ()")
        self.emit(4, lineage)
        self.emit(3, "else:", f"    _out.kept.append({name})")

    def _on_error(self, rule_name: str, target: str, failed: tuple[str, ...]) -> None:
        """The ``except`` clause: the flow's error, and it counts as absent."""
        self.emit(2, "except _EvalError as _x:")
        self.emit(3, f"_errors.append(_FlowError({rule_name}, {target}, _x.message))", *failed)

    def _evaluate(self, number: int, step: Step) -> None:
        """A flow of a target fed by several: its kind and values, kept for later."""
        rule, flow, first_source, plain = step
        kind, found = f"_kind{number}", f"_v{number}"
        if plain:
            read = "()" if first_source is None else f"_A.get({self.const(first_source)}, ())"
            self.emit(2, f"{found} = {read}", f"{kind} = _VALUE if {found} else _NULL")
            return
        if flow.flow_type is FlowType.CONSTANT and not flow.allowed_values:
            constant = () if flow.constant is None else (flow.constant,)
            self.emit(2, f"{kind} = {'_VALUE' if constant else '_NULL'}")
            self.emit(2, f"{found} = {self.const(constant)}")
            return
        failed = (f"{kind} = None", f"{found} = ()")
        self.emit(2, "try:")
        if flow.flow_type is FlowType.EXPRESSION and not flow.allowed_values:
            assert flow.expression is not None  # the loader compiles every Expression flow
            self.emit(3, f"_r = {self.const(flow.expression.evaluate)}(_src, _P)")
            self._on_error(self.const(rule.name), self.const(flow.target), failed)
            self.emit(2, "else:")
            self.emit(3, "if type(_r) is str:", f"    {kind} = _VALUE", f"    {found} = (_r,)")
            self.emit(3, "elif _r is _IGNORE:", f"    {kind} = _KIND_IGNORE", f"    {found} = ()")
            self.emit(
                3, "elif _r is _AUTHORITATIVE_NULL:", f"    {kind} = _KIND_AUTHORITATIVE_NULL"
            )
            self.emit(4, f"{found} = ()")
            self.emit(3, "else:", f"    {found} = _as_values(_r)")
            self.emit(4, f"{kind} = _VALUE if {found} else _NULL")
            return
        self.emit(3, f"{kind}, {found} = _flow_value({self.const(flow)}, _A, _src, _P)")
        self._on_error(self.const(rule.name), self.const(flow.target), failed)

    def _settle(self, target: Target) -> None:
        """Decide a target fed by several flows, or merged, once its last flow ran."""
        if target.updates_only:
            self._first_decision(target)
            return
        kinds = "".join(f"_kind{number}, " for number in target.numbers)
        found = "".join(f"_v{number}, " for number in target.numbers)
        call = f"_settle({self.const(target)}, ({kinds}), ({found}), _out, _conflicts)"
        self.emit(2, call)

    def _first_decision(self, target: Target) -> None:
        """Update flows by precedence: the first value or AuthoritativeNull wins; else
        a NULL clears, an IgnoreThisFlow keeps; a failed flow is as if absent."""
        name, keyword = self.const(target.name), "if"
        for number, step in zip(target.numbers, target.steps, strict=True):
            rule_name = step[0].name
            lineage = f"    _lineage[{name}] = {self.const(rule_name)}" if rule_name else "    pass"
            self.emit(2, f"{keyword} _kind{number} is _VALUE:", f"    _values[{name}] = _v{number}")
            self.emit(2, lineage, f"elif _kind{number} is _KIND_AUTHORITATIVE_NULL:")
            self.emit(2, f"    _values[{name}] = ()", lineage)
            keyword = "elif"
        nulls = " or ".join(f"_kind{number} is _NULL" for number in target.numbers)
        ignored = " or ".join(f"_kind{number} is _KIND_IGNORE" for number in target.numbers)
        self.emit(2, f"elif {nulls}:", f"    _values[{name}] = ()")
        self.emit(2, f"elif {ignored}:", f"    _out.kept.append({name})")

    def _reorder(self, names: tuple[str, ...]) -> None:
        """Targets decided out of order (several flows, interleaved): put them back."""
        order = self.const(names)
        self.emit(2, "_ordered = _Outcome({}, {}, [], _errors)")
        self.emit(2, f"for _t in {order}:")
        self.emit(3, "if _t in _values:", "    _ordered.values[_t] = _values[_t]")
        self.emit(3, "if _t in _lineage:", "    _ordered.lineage[_t] = _lineage[_t]")
        self.emit(3, "if _t in _out.kept:", "    _ordered.kept.append(_t)")
        self.emit(2, "_out = _ordered")
