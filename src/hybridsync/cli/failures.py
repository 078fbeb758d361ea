"""A failure a command reports in one line on stderr, and the exit status it means."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import typer


@dataclass(frozen=True, slots=True)
class Failure:
    """Exceptions of ``kind`` are reported as ``prefix: message``, exit status ``status``."""

    kind: type[BaseException]
    prefix: str
    status: int


@contextmanager
def reported(*failures: Failure) -> Iterator[None]:
    """Report the first of ``failures`` whose kind the exception is, and exit so; any
    other exception goes on as it is."""
    try:
        yield
    except tuple(failure.kind for failure in failures) as exc:
        failure = next(f for f in failures if isinstance(exc, f.kind))
        typer.echo(f"{failure.prefix}: {exc}", err=True)
        raise typer.Exit(failure.status) from exc


__all__ = ["Failure", "reported"]
