"""Bulk writes without SQLAlchemy's work per row.

``Connection.execute(statement, rows)`` checks and converts every row on its way to the
driver; for the store's batches (a few hundred thousand rows in a first sync) that was a
good part of each write. Here a statement is compiled once per set of columns for the
connection's dialect, and its rows go to the driver's ``executemany`` as they are, through
the columns' own bind conversions (a Boolean becomes 0/1 on SQLite), so SQLite and
PostgreSQL both get exactly what SQLAlchemy would have sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

_Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    statement: ClauseElement
    """Kept so the id used as the cache key stays this statement's."""
    sql: str
    names: tuple[str, ...]
    processors: tuple[_Processor | None, ...]
    positional: bool


class BulkWriter:
    """``executemany`` of a compiled statement; every row has the first row's keys."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._compiled: dict[tuple[int, tuple[str, ...]], _Compiled] = {}

    def executemany(self, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]) -> None:
        keys = tuple(rows[0])
        compiled = self._compiled.get((id(statement), keys))
        if compiled is None or compiled.statement is not statement:
            compiled = self._compile(statement, keys)
        getter = itemgetter(*compiled.names)
        values: list[Any] = [getter(row) for row in rows]
        if len(compiled.names) == 1:
            values = [(value,) for value in values]
        converters = [(i, f) for i, f in enumerate(compiled.processors) if f is not None]
        if converters:
            values = [_converted(row, converters) for row in values]
        parameters: list[Any] = (
            values
            if compiled.positional
            else [dict(zip(compiled.names, row, strict=True)) for row in values]
        )
        self._connection.exec_driver_sql(compiled.sql, parameters)

    def _compile(self, statement: ClauseElement, keys: tuple[str, ...]) -> _Compiled:
        dialect = self._connection.dialect
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)  # a DML statement compiles to SQL
        positional = bool(compiled.positional)
        names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
        processors = tuple(compiled.binds[name].type.bind_processor(dialect) for name in names)
        entry = _Compiled(statement, compiled.string, names, processors, positional)
        if len(self._compiled) >= 64:
            self._compiled.clear()  # statements built per call: never many alive at once
        self._compiled[(id(statement), keys)] = entry
        return entry


def _converted(row: tuple[Any, ...], converters: list[tuple[int, _Processor]]) -> tuple[Any, ...]:
    converted = list(row)
    for index, convert in converters:
        converted[index] = convert(converted[index])
    return tuple(converted)
