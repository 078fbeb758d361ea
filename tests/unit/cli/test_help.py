"""Every command's help, rendered at 80 columns, reads as written and has no defects.

One walk over the whole command tree (so a command added later is checked too): each
help answers ``-h`` as ``--help``, fits 80 columns, shows every help text whole (no
markup eaten, nothing cut with an ellipsis), names metavars in capitals, wraps
paragraphs itself, and leaves no option undescribed.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from hybridsync.cli import app, load_all_commands
from hybridsync.cli.helptext import metavar

WIDTH = 80
# Options typer adds by itself, described by typer.
BUILT_IN = {"help", "install_completion", "show_completion"}


def command_tree() -> list[tuple[list[str], Any]]:
    load_all_commands()  # the root group imports a command's module on first use
    found: list[tuple[list[str], Any]] = []

    def walk(command: Any, prefix: list[str]) -> None:
        found.append((prefix, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return found


TREE = command_tree()


def render(path: list[str], flag: str = "--help") -> str:
    result = CliRunner().invoke(app, [*path, flag], terminal_width=WIDTH)
    assert result.exit_code == 0, (path, flag, result.output)
    return result.output


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_product_commands_are_all_there() -> None:
    names = {" ".join(path) for path, _ in TREE}
    assert {"demo", "init", "run", "plan", "apply", "preview", "status", "history",
            "scheduler", "expr eval", "cloud serve", "phs loop", "agent run"} <= names  # fmt: skip


@pytest.mark.parametrize(
    ("path", "command"), [pytest.param(p, c, id=" ".join(p) or "hybridsync") for p, c in TREE]
)
def test_help_reads_as_written(path: list[str], command: Any) -> None:
    text = render(path)
    assert render(path, "-h") == text
    assert text.startswith("Usage: ")
    assert all(len(line) <= WIDTH for line in text.splitlines()), text
    _no_internal_labels(text)
    _usage_in_capitals(text.splitlines()[0])
    _every_text_whole(command, text)
    _wrapped_by_the_formatter(text)


def _no_internal_labels(text: str) -> None:
    assert not re.search(r"<[a-z][^<>=]*>", text), f"a type label like <bool>:\n{text}"
    assert "``" not in text, f"reStructuredText literal:\n{text}"
    assert "…" not in text, f"cut with an ellipsis:\n{text}"
    assert "..." not in text.replace("[ARGS]...", ""), f"cut short:\n{text}"


def _usage_in_capitals(usage: str) -> None:
    assert not re.search(r"[{}]", usage), usage
    assert not re.search(r"\[[a-z_]+\]|\s[a-z_]+$", usage.split("[OPTIONS]")[-1]), usage


def _every_text_whole(command: Any, text: str) -> None:
    shown = flat(text)
    assert flat(command.help or "") in shown, f"the command's help is not all there:\n{text}"
    for param in command.params:
        if param.name in BUILT_IN:
            continue
        assert param.help, f"{param.opts}: no description"
        assert flat(param.help) in shown, f"{param.opts}: help not shown whole:\n{text}"
    for sub in getattr(command, "commands", {}).values():
        first = (sub.help or "").strip().split("\n\n")[0]
        assert flat(first) in shown, f"{sub.name}: summary not shown whole:\n{text}"


def _wrapped_by_the_formatter(text: str) -> None:
    """Within a paragraph, a line never ends where the next line's first word would
    still have fit: that is a line break written into the source (a hand-wrapped
    docstring). Checked in the description and in the help column of each list."""
    pairs: list[tuple[str, str]] = []
    for block in text.split("\n\n")[1:]:
        lines = block.strip("\n").splitlines()
        if lines and lines[0].endswith(":"):  # Options:, Arguments:, Commands:
            pairs += [p for p in itertools.pairwise(lines[1:]) if _continues(*p)]
        else:
            pairs += itertools.pairwise(lines)
    for line, following in pairs:
        word = following.split()[0]
        assert len(line) + 1 + len(word) > WIDTH, f"broken by hand before {word!r}:\n{text}"


def _continues(line: str, following: str) -> bool:
    """``following`` carries on ``line``'s help column (same indent, past the names)."""
    indent = len(following) - len(following.lstrip())
    return indent > 2 and line.strip() != "" and len(line) > indent and line[indent - 1] == " "


def test_metavars_name_the_kind_of_value() -> None:
    assert [metavar(x) for x in ("str", "path", "int range", "a|b")] == [
        "TEXT", "PATH", "INTEGER", "a|b"
    ]  # fmt: skip
    text = render(["apply"])
    assert text.splitlines()[0] == "Usage: hybridsync apply [OPTIONS] PLAN_FILE"
    assert "-c, --config PATH" in text
    assert re.search(r"\n  PLAN_FILE +A plan saved with", text)


def test_markup_like_text_and_hyphenated_defaults_survive() -> None:
    assert "TOML file with the AD connection ([ad] table)." in flat(render(["agent", "run"]))
    text = render(["cloud", "serve"])  # a hyphenated default is never split at its hyphen
    assert "[default: cloud-data]" in flat(text)
    assert "cloud-\n" not in text
