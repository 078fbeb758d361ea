"""Multi-valued functions: Contains, Count, Item, ItemOrNull, Join, RemoveDuplicates, Split."""

from __future__ import annotations

from hybridsync.expressions.coerce import (
    fail,
    multi,
    single,
    to_enum,
    to_number,
    to_text,
    values_of,
)
from hybridsync.expressions.signatures import FunctionSpec, function
from hybridsync.expressions.values import Reference

_CASE = ("CaseSensitive", "CaseInsensitive")


def contains(values: object, search: object, case: object = None) -> int:
    if search is None:
        return 0
    insensitive = case is not None and to_enum(case, _CASE, "the case option") == _CASE[1]
    wanted = to_text(search, "the search text")
    if insensitive:
        wanted = wanted.casefold()
    for index, item in enumerate(values_of(values), start=1):
        if isinstance(item, Reference):
            # A reference matches only as a whole distinguished name.
            if item.dn.lower() == wanted.lower():
                return index
            continue
        text = to_text(item, "a value")
        if wanted in (text.casefold() if insensitive else text):
            return index
    return 0


def count(values: object) -> int:
    return len(values_of(values))


def _at(values: object, index: object) -> object | None:
    present = values_of(values)
    position = to_number(index, "index")
    return present[position - 1] if 1 <= position <= len(present) else None


def item(values: object, index: object) -> object:
    found = _at(values, index)
    if found is None:
        fail(f"index {to_number(index)} is out of bounds: there are {count(values)} values")
    return found


def item_or_null(values: object, index: object) -> object:
    return _at(values, index)


def join(values: object, delimiter: object = " ") -> object:
    present = values_of(values)
    if not present:
        return None
    separator = "" if delimiter is None else to_text(delimiter, "the delimiter")
    return separator.join(to_text(value, "a value") for value in present)


def remove_duplicates(values: object) -> object:
    seen: set[object] = set()
    kept = []
    for value in values_of(values):
        if value not in seen:
            seen.add(value)
            kept.append(value)
    return multi(kept)


def split(value: object, delimiter: object, limit: object = None) -> object:
    text = single(value, "the value to split")
    if text is None:
        return None
    mark = to_text(delimiter, "the delimiter")
    if len(mark) != 1:
        fail(f"the delimiter must be one character, not {mark!r}")
    most = -1 if limit is None else to_number(limit, "limit")
    if limit is not None and most < 1:
        fail(f"limit must be 1 or more, not {most}")
    source = to_text(text)
    if not source:
        return None
    return multi(source.split(mark, most - 1 if most > 0 else -1))


FUNCTIONS: tuple[FunctionSpec, ...] = (
    function(
        "Contains", "Multi-valued", "num", ("mv", "str"), ("mv", "str", "enum"),
        implementation=contains,
    ),
    function("Count", "Multi-valued", "num", ("mv",), implementation=count),
    function("Item", "Multi-valued", "var", ("mv", "num"), implementation=item),
    function("ItemOrNull", "Multi-valued", "var", ("mv", "num"), implementation=item_or_null),
    function("Join", "Multi-valued", "str", ("mv",), ("mv", "str"), implementation=join),
    function(
        "RemoveDuplicates", "Multi-valued", "mv", ("mv",), implementation=remove_duplicates
    ),
    function("Split", "Multi-valued", "mv", ("str", "str"), ("str", "str", "num"),
             implementation=split),
)  # fmt: skip
