"""The run history and each run's object errors, in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select, update

from hybridsync.core.objects import ObjectError
from hybridsync.core.runs import RunRecord
from hybridsync.store import tables
from hybridsync.store.sql.rows import error_row, object_error, run_record, run_row
from hybridsync.store.sql.session import SqlSession

T = tables


class SqlRuns(SqlSession):
    """Implements :class:`hybridsync.core.storage.RunStore`."""

    def start_run(self, record: RunRecord) -> None:
        self._run(insert(T.runs).values(**run_row(record)))

    def finish_run(self, record: RunRecord) -> None:
        self._run(update(T.runs).where(T.runs.c.run_id == record.run_id).values(**run_row(record)))

    def record_errors(self, run_id: str, errors: Sequence[ObjectError]) -> None:
        if errors:
            self._run(insert(T.run_errors), [error_row(run_id, error) for error in errors])

    def runs(self, limit: int = 20) -> list[RunRecord]:
        rows = self._read(select(T.runs).order_by(T.runs.c.seq.desc()).limit(limit))
        return [run_record(row) for row in rows]

    def runs_since(self, connector: str, profile: str, started_after: str) -> list[RunRecord]:
        runs = T.runs.c
        query = select(T.runs).where(
            runs.connector == connector, runs.profile == profile, runs.started > started_after
        )
        return [run_record(row) for row in self._read(query)]

    def run_errors(self, run_id: str) -> list[ObjectError]:
        rows = self._read(select(T.run_errors).where(T.run_errors.c.run_id == run_id))
        return [object_error(row) for row in rows]
