"""Connect's PrecedenceBefore/PrecedenceAfter decide the order of migrated rules."""

from __future__ import annotations

from hybridsync.config.migrate.export import EMPTY_GUID, ConnectRule
from hybridsync.config.migrate.ordering import connect_order


def _rule(
    name: str, precedence: int, *, before: str = EMPTY_GUID, after: str = EMPTY_GUID
) -> ConnectRule:
    return ConnectRule(
        id=f"{{{name}}}", name=name, description="", immutable_tag="", direction="Inbound",
        disabled=False, connector="{c}", source_object_type="user", target_object_type="person",
        link_type="Join", precedence=precedence, precedence_after=after,
        precedence_before=before, password_sync=False, scope=(), join=(), mappings=(),
        origin=f"{name}.xml",
    )  # fmt: skip


def _order(*rules: ConnectRule) -> list[tuple[str, int, str | None]]:
    return [(p.rule.name, p.rule.precedence, p.note) for p in connect_order(rules)]


def test_numbers_decide_when_no_rule_names_another() -> None:
    assert _order(_rule("b", 101), _rule("a", 100)) == [("a", 100, None), ("b", 101, None)]


def test_precedence_before_inserts_and_renumbers_the_rules_that_follow() -> None:
    # The editor's recipe for more than 99 custom rules: -Precedence 0 -PrecedenceBefore <join>.
    order = _order(
        _rule("first", 99), _rule("join", 100), _rule("common", 101), _rule("later", 110),
        _rule("custom", 0, before="{JOIN}"),
    )  # fmt: skip
    assert [(name, number) for name, number, _ in order] == [
        ("first", 99), ("custom", 100), ("join", 101), ("common", 102), ("later", 110),
    ]  # fmt: skip
    notes = {name: note for name, _, note in order}
    assert notes["custom"] == (
        "precedence 0 → 100: placed by its PrecedenceBefore {join}, as Connect orders rules"
    )
    assert notes["join"] == (
        "precedence 100 → 101: renumbered to follow the rule before it in Connect's order, "
        "as Connect does"
    )
    assert (notes["first"], notes["later"]) == (None, None)


def test_precedence_after_places_the_rule_right_after_the_one_it_names() -> None:
    order = _order(_rule("a", 100), _rule("b", 101), _rule("x", 0, after="{a}"))
    assert [(name, number) for name, number, _ in order] == [("a", 100), ("x", 101), ("b", 102)]


def test_chained_links_and_a_rule_already_in_place_keep_their_numbers() -> None:
    order = _order(
        _rule("a", 100), _rule("y", 0, after="{x}"), _rule("x", 0, after="{a}"),
        _rule("ok", 50, before="{a}"), _rule("b", 200),
    )  # fmt: skip
    assert [(name, number) for name, number, _ in order] == [
        ("ok", 50), ("a", 100), ("x", 101), ("y", 102), ("b", 200),
    ]  # fmt: skip
    assert order[0][2] is None  # already before "a": nothing changed


def test_a_link_to_a_rule_outside_the_export_keeps_the_number_and_says_so() -> None:
    ((name, number, note), after) = _order(_rule("lonely", 0, before="{ABC}"), _rule("z", 7))
    assert (name, number) == ("lonely", 0)
    assert note == (
        "PrecedenceBefore names rule {abc}, which is not in this export: "
        "the rule keeps its precedence 0"
    )
    assert after == ("z", 7, None)


def test_links_that_form_a_cycle_fall_back_to_the_numbers() -> None:
    order = _order(
        _rule("p", 5, before="{q}"), _rule("q", 6, before="{p}"), _rule("r", 1),
        _rule("s", 0, after="{r}"),
    )  # fmt: skip
    assert [(name, number) for name, number, _ in order] == [
        ("r", 1), ("s", 2), ("p", 5), ("q", 6),
    ]  # fmt: skip
    assert order[2][2] == (
        "PrecedenceBefore {q} is part of a cycle of links: the rule keeps its precedence 5"
    )
