"""Connect's ``PrecedenceBefore`` / ``PrecedenceAfter``: rule order as Connect computes it.

A rule that names another rule's identifier in ``PrecedenceBefore`` goes right before
that rule, one naming it in ``PrecedenceAfter`` right after it, whatever its own number
(the editor writes ``-Precedence 0`` for such rules). Connect then renumbers the rules
that follow; so does the migration, and each renumbered rule says why in the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from hybridsync.config.migrate.export import ConnectRule


@dataclass(frozen=True, slots=True)
class Placed:
    """A rule with its final precedence, and the reason when that number changed."""

    rule: ConnectRule
    note: str | None = None


def _named(guid: str) -> str:
    """The identifier a precedence link names, or "" for the empty GUID."""
    return "" if not guid.strip("{}0-") else guid.strip("{}").lower()


def _link(rule: ConnectRule) -> tuple[str, str]:
    """("before" or "after", the identifier) of the rule's link, or ("", "")."""
    if before := _named(rule.precedence_before):
        return "before", before
    if after := _named(rule.precedence_after):
        return "after", after
    return "", ""


def _key(rule: ConnectRule) -> tuple[int, str]:
    return rule.precedence, rule.name


def connect_order(rules: Sequence[ConnectRule]) -> list[Placed]:
    """Every rule in Connect's order, renumbered only where its links demand it."""
    ids = {_id(rule) for rule in rules}
    kept = {r.id: _dangling_note(r) for r in rules if _link(r)[0] and _link(r)[1] not in ids}
    order = sorted((r for r in rules if _link(r)[1] not in ids), key=_key)
    waiting = sorted((r for r in rules if _link(r)[1] in ids), key=_key)
    while waiting:
        placed_ids = [_id(rule) for rule in order]
        ready = [rule for rule in waiting if _link(rule)[1] in placed_ids]
        if not ready:  # links that form a cycle: their own numbers place those rules
            for rule in waiting:
                kept[rule.id] = _cycle_note(rule)
                index = next((i for i, r in enumerate(order) if _key(r) > _key(rule)), len(order))
                order.insert(index, rule)
            break
        for rule in ready:
            side, target = _link(rule)
            index = [_id(r) for r in order].index(target) + (side == "after")
            order.insert(index, rule)
            waiting.remove(rule)
    return _renumbered(order, kept)


def _id(rule: ConnectRule) -> str:
    return rule.id.strip("{}").lower()


def _renumbered(order: list[ConnectRule], kept: dict[str, str]) -> list[Placed]:
    """Precedence numbers for ``order``; ``kept`` holds the rules whose links are ignored,
    each with the reason."""
    placed: list[Placed] = []
    previous = -1
    for index, rule in enumerate(order):
        linked = bool(_link(rule)[0]) and rule.id not in kept
        number = _number(rule, linked, previous, order[index + 1 :])
        note = kept.get(rule.id)
        if number != rule.precedence:
            note = f"precedence {rule.precedence} → {number}: {_reason(rule)}"
            rule = replace(rule, precedence=number)
        previous = number
        placed.append(Placed(rule, note))
    return placed


def _number(
    rule: ConnectRule, linked: bool, previous: int, following: Sequence[ConnectRule]
) -> int:
    """The rule's precedence in Connect's order, given the number of the rule before it.

    A linked rule keeps its own number when that number already puts it in its place;
    with ``-Precedence 0`` (the editor's "not set") or a number out of place, it takes
    the place's number: the named rule's for PrecedenceBefore (that rule moves down),
    the next free one for PrecedenceAfter.
    """
    upper = following[0].precedence if following else None
    fits = previous < rule.precedence and (upper is None or rule.precedence < upper)
    if linked and (rule.precedence == 0 or not fits):
        before = _link(rule)[0] == "before" and upper is not None
        return max(previous + 1, upper if before and upper is not None else 0)
    return max(rule.precedence, previous + 1)


def _dangling_note(rule: ConnectRule) -> str:
    side, target = _link(rule)
    return (
        f"Precedence{side.title()} names rule {{{target}}}, which is not in this export: "
        f"the rule keeps its precedence {rule.precedence}"
    )


def _cycle_note(rule: ConnectRule) -> str:
    side, target = _link(rule)
    return (
        f"Precedence{side.title()} {{{target}}} is part of a cycle of links: the rule keeps "
        f"its precedence {rule.precedence}"
    )


def _reason(rule: ConnectRule) -> str:
    side, target = _link(rule)
    if side:
        return f"placed by its Precedence{side.title()} {{{target}}}, as Connect orders rules"
    return "renumbered to follow the rule before it in Connect's order, as Connect does"
