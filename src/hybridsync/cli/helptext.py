"""How every command's ``--help`` reads: plain text, wrapped by paragraph, at any width.

typer's rich help treats ``[ad]`` in a help text as markup (and drops it), keeps the
line breaks of a docstring, cuts long defaults with an ellipsis and labels every flag
``<bool>``. The plain click formatter rewraps paragraphs and prints help text as
written; this module adds what it lacks: metavars in capitals (``--config PATH``,
``apply PLAN_FILE``), no line broken inside a hyphenated word such as ``cloud-data``,
and a command list that gives each command's first paragraph whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from typer._click import Context, HelpFormatter
from typer._coercion import PassThroughRuntimeParam

HELP_OPTION_NAMES = ["-h", "--help"]

_TYPE_LABEL = re.compile(r"<([^<>]+)>")
_USAGE_ARGUMENT = re.compile(r"[{\[]([a-z][a-z0-9_]*)[}\]](\.\.\.)?")
# U+2011 (non-breaking hyphen): the text wrapper never breaks a line after it; put back
# as "-" once the text is laid out.
_NO_BREAK_HYPHEN = "\u2011"
METAVARS = {
    "str": "TEXT",
    "list[str]": "TEXT",
    "path": "PATH",
    "file": "FILE",
    "int": "INTEGER",
    "int range": "INTEGER",
    "list[int]": "INTEGER",
    "float": "NUMBER",
    "float range": "NUMBER",
}


def metavar(label: str) -> str:
    """``TEXT`` for typer's ``<str>``, ``PATH`` for ``<path>``; a choice stays ``a|b``."""
    return METAVARS.get(label, label if "|" in label else label.upper())


def _usage_argument(match: re.Match[str]) -> str:
    name = match.group(1).upper() + (match.group(2) or "")
    return name if match.group(0).startswith("{") else f"[{name}]"


class PlainHelpFormatter(HelpFormatter):
    """click's formatter, with capital metavars and no break inside a hyphenated word."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        # typer writes a required argument ``{plan_file}``, an optional one ``[what]``.
        super().write_usage(prog, _USAGE_ARGUMENT.sub(_usage_argument, args), prefix)

    def write_dl(
        self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        rows = [(_term(first), second.replace("-", _NO_BREAK_HYPHEN)) for first, second in rows]
        super().write_dl(rows, col_max, col_spacing)

    def getvalue(self) -> str:
        return super().getvalue().replace(_NO_BREAK_HYPHEN, "-")


def _term(first: str) -> str:
    """``-c, --config <path>`` becomes ``-c, --config PATH``; ``plan_file <path>`` (an
    argument: typer labels its type too) becomes ``PLAN_FILE``; a command stays as is."""
    if first.startswith("-"):
        return _TYPE_LABEL.sub(lambda m: metavar(m.group(1)), first)
    if _TYPE_LABEL.search(first):
        return _TYPE_LABEL.sub("", first).strip().upper()
    return first


def taken_as_given(param: Any) -> None:
    """Let typer take the value of a flag or a text option as given.

    typer checks a value by building a pydantic adapter for the parameter's type: for a
    flag or plain text that checks nothing, and loading pydantic for it would cost every
    help screen (``--help`` is such a flag) a third of a second.
    """
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or param._runtime_param is not None:
        return
    if descriptor.annotation in (str, bool):
        param._runtime_param = PassThroughRuntimeParam(
            descriptor.parameter_info, descriptor.annotation
        )


class PlainHelpContext(Context):
    formatter_class = PlainHelpFormatter

    def __init__(self, command: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(command, *args, **kwargs)
        taken_as_given(command.get_help_option(self))


def plain_help(command: Any) -> Any:
    """Make ``command`` and every command under it print plain help (returns it).

    Called on each command as the root group loads it, so commands added later get the
    same help without doing anything.
    """
    if command is None:
        return None
    command.rich_markup_mode = None
    command.context_class = PlainHelpContext
    if command.short_help is None and command.help:
        command.short_help = _first_paragraph(command.help)
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)
    return command


def _first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n")[0].split())


__all__ = [
    "HELP_OPTION_NAMES",
    "PlainHelpContext",
    "PlainHelpFormatter",
    "metavar",
    "plain_help",
    "taken_as_given",
]
