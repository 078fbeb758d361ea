"""Full-import staging in SQL: pages land in a table, compared with the connector space
at the end."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import delete, func, insert, select

from hybridsync.core.objects import CSObject
from hybridsync.core.ports import ImportedObject
from hybridsync.store import tables
from hybridsync.store.codec import dump_attributes
from hybridsync.store.sql.connector_space import SqlConnectorSpaces
from hybridsync.store.sql.rows import STAGED_WITH_CURRENT, loaded

T = tables


class SqlImportStaging(SqlConnectorSpaces):
    """Implements :class:`hybridsync.core.storage.ImportStagingStore`."""

    def clear_staging(self, connector: str) -> None:
        self._run(delete(T.import_staging).where(T.import_staging.c.connector == connector))

    def stage(self, connector: str, objects: Sequence[ImportedObject]) -> None:
        if objects:
            self._run(
                insert(T.import_staging),
                [
                    {
                        "connector": connector,
                        "anchor": obj.anchor,
                        "dn": obj.dn,
                        "object_type": obj.object_type,
                        "attributes": dump_attributes(obj.attributes),
                    }
                    for obj in objects
                ],
            )

    def staged_count(self, connector: str) -> int:
        c = T.import_staging.c
        return int(self._read(select(func.count()).where(c.connector == connector)).scalar_one())

    def staged_with_current(
        self, connector: str, chunk: int
    ) -> Iterator[list[tuple[ImportedObject, CSObject | None]]]:
        """Staged objects in anchor order, a chunk at a time (keyset paging: bounded memory).
        Plain SQL text and tuples: this reads every object of a full import."""
        sql = STAGED_WITH_CURRENT.format(*self._placeholders(3).split(", "))
        last = ""
        while True:
            self._flush()
            part = self._connection.exec_driver_sql(sql, (connector, last, chunk)).fetchall()
            if not part:
                return
            last = part[-1][0]
            current = {cs.cs_id: cs for cs in self.get_cs_many([r[4] for r in part if r[4]])}
            yield [
                (
                    ImportedObject(anchor, dn, object_type, loaded(attributes)),
                    current.get(current_id) if current_id else None,
                )
                for anchor, dn, object_type, attributes, current_id in part
            ]

    def cs_ids_not_staged(self, connector: str) -> list[str]:
        s, c = T.import_staging.c, T.cs_objects.c
        staged = select(s.anchor).where(s.connector == connector)
        query = select(c.cs_id).where(
            c.connector == connector, c.anchor.is_not(None), c.anchor.not_in(staged)
        )
        return [row.cs_id for row in self._read(query)]
