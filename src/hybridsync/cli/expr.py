"""``hybridsync expr``: try rule expressions before putting them in a rule.

``expr eval`` evaluates one expression against attribute values given on the command
line; ``expr check`` compiles expressions without evaluating them and reports every
problem with its line and column.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.errors import ExpressionEvalError, ExpressionSyntaxError, ExpressionUserError

expr_app = typer.Typer(help="Compile and evaluate sync-rule expressions.", no_args_is_help=True)
app.add_typer(expr_app, name="expr")


def _pairs(options: list[str], what: str) -> dict[str, list[str]]:
    """``name=value`` options by name; a repeated name collects several values."""
    found: dict[str, list[str]] = {}
    for option in options:
        name, equals, value = option.partition("=")
        if not equals or not name.strip():
            raise typer.BadParameter(f"{option!r} is not name=value", param_hint=what)
        found.setdefault(name.strip(), []).append(value)
    return found


def _binary(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not base64", param_hint="--bin") from None


def type_name(value: object) -> str:
    """The language's name for the kind of a result."""
    # The expressions package loads its parser (lark): imported when an expression is used.
    from hybridsync.expressions import MultiValue, Reference, Sentinel

    if value is None:
        return "null"
    if isinstance(value, Sentinel):
        return value.name
    if isinstance(value, MultiValue):
        return "multi-valued"
    if isinstance(value, bool):
        return "boolean"
    names = {str: "string", int: "number", bytes: "binary", Reference: "reference"}
    names[datetime] = "datetime"
    return next((name for kind, name in names.items() if isinstance(value, kind)), "value")


def plain(value: object) -> object:
    """A JSON-ready form of a result: binary as base64, dates as ISO-8601 UTC."""
    from hybridsync.expressions import MultiValue, Reference, Sentinel
    from hybridsync.expressions.datetimes import iso

    if isinstance(value, MultiValue):
        return [plain(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Reference | Sentinel):
        return str(value)
    return value


def _syntax_report(error: ExpressionSyntaxError) -> dict[str, object]:
    return {"line": error.line, "column": error.column, "message": error.message}


def _print_syntax_error(error: ExpressionSyntaxError, as_json: bool, prefix: str = "") -> None:
    if as_json:
        typer.echo(json.dumps({"error": "syntax", **_syntax_report(error)}))
        return
    typer.echo(f"{prefix}line {error.line}, column {error.column}: {error.message}", err=True)
    if error.excerpt:
        typer.echo(error.excerpt, err=True)


def _eval_report(error: ExpressionEvalError, text: str) -> dict[str, object]:
    kind = "Error()" if isinstance(error, ExpressionUserError) else "evaluation"
    return {
        "error": kind,
        "message": error.message,
        "line": error.line,
        "column": error.column,
        "function": error.function,
    }


def _print_eval_error(error: ExpressionEvalError, text: str, as_json: bool) -> None:
    report = _eval_report(error, text)
    if as_json:
        typer.echo(json.dumps(report))
        return
    where = f"line {error.line}, column {error.column}" if error.line else "evaluation"
    inside = f" in {error.function}" if error.function else ""
    typer.echo(f"error at {where}{inside}: {error.message}", err=True)
    if error.line and error.column:
        source = (text.splitlines() or [""])[error.line - 1]
        typer.echo(f"{source}\n{' ' * (error.column - 1)}^", err=True)


@expr_app.command("eval")
def evaluate(
    expression: Annotated[str, typer.Argument(help="The expression, in quotes.")],
    attr: Annotated[
        list[str] | None,
        typer.Option(
            "--attr", "-a", help="name=value; repeat a name for a multi-valued attribute."
        ),
    ] = None,
    binary: Annotated[
        list[str] | None,
        typer.Option("--bin", "-b", help="name=BASE64: a binary attribute value (objectGUID)."),
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Parameter: Domain.FQDN=value.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Evaluate EXPRESSION against the given attributes and print its value and type."""
    from hybridsync.expressions import compile_expression

    given: dict[str, list[object]] = {
        name: list(texts) for name, texts in _pairs(attr or [], "--attr").items()
    }
    for name, texts in _pairs(binary or [], "--bin").items():
        given.setdefault(name, []).extend(_binary(text) for text in texts)
    attributes = {name: values[0] if len(values) == 1 else values for name, values in given.items()}
    parameters = {name: values[-1] for name, values in _pairs(param or [], "--param").items()}
    try:
        result = compile_expression(expression).evaluate(attributes, parameters)
    except ExpressionSyntaxError as error:
        _print_syntax_error(error, as_json)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from None
    except ExpressionEvalError as error:
        _print_eval_error(error, expression, as_json)
        raise typer.Exit(exit_codes.OBJECT_ERRORS) from None
    if as_json:
        typer.echo(json.dumps({"value": plain(result), "type": type_name(result)}))
    else:
        shown = plain(result)
        text = json.dumps(shown) if isinstance(shown, list) else str(shown)
        typer.echo(f"{text}\t({type_name(result)})")


def _expressions(expression: str | None, file: Path | None) -> list[tuple[int, str]]:
    if (expression is None) == (file is None):
        raise typer.BadParameter("give either an EXPRESSION or --file, not both or neither")
    if file is None:
        return [(1, expression or "")]
    lines = file.read_text(encoding="utf-8").splitlines()
    return [
        (number, line)
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


@expr_app.command("check")
def check(
    expression: Annotated[str | None, typer.Argument(help="The expression, in quotes.")] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", exists=True, dir_okay=False, help="One expression per line."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the problems as JSON.")] = False,
) -> None:
    """Compile expressions without evaluating them; report every problem.

    In a file, blank lines and lines starting with # are skipped; line numbers are the
    file's. The exit status is 3 when any expression fails to compile.
    """
    from hybridsync.expressions import check_expression

    problems: list[dict[str, object]] = []
    entries = _expressions(expression, file)
    for number, text in entries:
        for error in check_expression(text):
            line = number + error.line - 1
            problems.append({"line": line, "column": error.column, "message": error.message})
            if not as_json:
                prefix = f"{file}:" if file else ""
                typer.echo(f"{prefix}{line}:{error.column}: {error.message}", err=True)
                typer.echo(error.excerpt, err=True)
    if as_json:
        typer.echo(json.dumps({"checked": len(entries), "problems": problems}))
    elif not problems:
        typer.echo(f"ok: {len(entries)} expression(s) compile")
    if problems:
        raise typer.Exit(exit_codes.CONFIG_ERROR)
