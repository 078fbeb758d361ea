"""The runs table: columns as wide as their values, changes wrapped between items."""

from __future__ import annotations

from hybridsync.cli.runs_text import NO_CHANGES, Row, changes_text, note_lines, table

COUNTS = {"mv-added": 22, "projected": 22, "provisioned": 20, "joined": 3}


def test_changes_read_as_counts_with_errors_last() -> None:
    assert changes_text({}) == NO_CHANGES
    assert changes_text({"read": 3, "added": 2}, errors=1) == "added 2, read 3, 1 error"
    assert changes_text({}, errors=2) == "2 errors"


def test_a_long_changes_cell_wraps_between_items_under_its_column() -> None:
    header, (lines,) = table([Row("ad", "full-sync", "completed-sync-errors", 0.25, COUNTS)])
    assert header.split() == ["connector", "profile", "status", "time", "changes"]
    at = header.index("changes")
    assert lines[0].startswith("ad         full-sync  completed-sync-errors  0.2s  joined 3,")
    assert all(len(line) <= 80 for line in lines)
    assert len(lines) == 2
    assert lines[1][:at].strip() == ""
    cell = " ".join(line[at:] for line in lines)
    assert cell == "joined 3, mv-added 22, projected 22, provisioned 20"


def test_too_narrow_a_column_puts_the_changes_on_their_own_line() -> None:
    row = Row(
        "cloud", "export", "stopped-deletion-threshold-exceeded", 1.0, {"add": 1},
        lead=("3b911f1a", "12-07 12:36"),
    )  # fmt: skip
    _, (lines,) = table([row], lead_headers=("run", "started"), width=60)
    assert lines[0].endswith("1.0s")
    assert lines[1] == "    add 1"


def test_notes_wrap_with_a_hanging_indent() -> None:
    lines = note_lines("note: " + "word " * 30, 40)
    assert lines[0].startswith("  note: ")
    assert all(line.startswith("    ") for line in lines[1:])
    assert all(len(line) <= 40 for line in lines)
