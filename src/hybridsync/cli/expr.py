"""``hybridsync expr``: try rule expressions (placeholder until the language lands)."""

from __future__ import annotations

import typer

from hybridsync.cli import app

expr_app = typer.Typer(help="Compile and evaluate sync-rule expressions.", no_args_is_help=True)
app.add_typer(expr_app, name="expr")


@expr_app.command("check")
def check(expression: str) -> None:
    """Compile EXPRESSION without evaluating it."""
    raise typer.Exit(3)
