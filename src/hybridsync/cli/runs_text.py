"""Runs as a person reads them: one table style for ``run``, cycles, ``apply`` and
``history``, laid out to the terminal's width (80 columns when not on a terminal).

Each row is connector, profile, status, time taken and what changed. Columns are as wide
as their longest value; the changes column wraps between items (never inside one), and
when too little room is left for it the changes go on their own indented line.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NO_CHANGES = "no changes"
MIN_CHANGES_WIDTH = 20
HEADERS = ("connector", "profile", "status", "time", "changes")


@dataclass(frozen=True, slots=True)
class Row:
    """One run, as the table shows it (``lead``: columns before the connector)."""

    connector: str
    profile: str
    status: str
    seconds: float | None
    counts: Mapping[str, int]
    errors: int = 0
    lead: tuple[str, ...] = ()


def changes_text(counts: Mapping[str, int], errors: int = 0) -> str:
    """``added 27, read 27`` (sorted), ``no changes`` when nothing was counted, with
    the number of object errors last."""
    items = [f"{name} {count}" for name, count in sorted(counts.items())]
    if errors:
        items.append(f"{errors} error" + ("s" if errors > 1 else ""))
    return ", ".join(items) or NO_CHANGES


def seconds_text(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.1f}s"


def terminal_width() -> int:
    """The terminal's columns (``COLUMNS`` first), 80 when not on a terminal."""
    return shutil.get_terminal_size((80, 24)).columns


def table(
    rows: Sequence[Row], lead_headers: Sequence[str] = (), width: int = 80
) -> tuple[str, list[list[str]]]:
    """The header line, and the lines of each row (one, or more when its changes wrap)."""
    heads = [*lead_headers, *HEADERS[:4]]
    cells = [[*r.lead, r.connector, r.profile, r.status, seconds_text(r.seconds)] for r in rows]
    widths = [max(len(c) for c in column) for column in zip(heads, *cells, strict=False)]
    right = len(heads) - 1  # the time, right-aligned
    changes_at = sum(widths) + 2 * len(widths)
    room = width - changes_at
    groups: list[list[str]] = []
    for row, row_cells in zip(rows, cells, strict=True):
        changes = changes_text(row.counts, row.errors)
        if room >= MIN_CHANGES_WIDTH:
            first, *more = _wrap(changes, room)
            lines = [_join([*row_cells, first], widths, right)]
            lines += [" " * changes_at + line for line in more]
        else:  # too narrow: the changes on their own lines
            lines = [_join(row_cells, widths, right)]
            lines += ["    " + line for line in _wrap(changes, width - 4)]
        groups.append(lines)
    return _join([*heads, HEADERS[4]], widths, right), groups


def _join(cells: Sequence[str], widths: Sequence[int], right: int) -> str:
    padded = [
        cell.rjust(widths[i]) if i == right else cell.ljust(widths[i]) if i < len(widths) else cell
        for i, cell in enumerate(cells)
    ]
    return "  ".join(padded).rstrip()


def _wrap(changes: str, width: int) -> list[str]:
    """Wrap between items: a count never loses its name (``added`` / ``27``)."""
    glued = changes.replace(" ", "\u00a0").replace(",\u00a0", ", ")
    return [line.replace("\u00a0", " ") for line in textwrap.wrap(glued, width)] or [""]


def note_lines(text: str, width: int, indent: str = "  ") -> list[str]:
    """A note or message wrapped at ``width``, continuation lines indented further."""
    return textwrap.wrap(
        text,
        width,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent]


__all__ = [
    "NO_CHANGES",
    "Row",
    "changes_text",
    "note_lines",
    "seconds_text",
    "table",
    "terminal_width",
]
