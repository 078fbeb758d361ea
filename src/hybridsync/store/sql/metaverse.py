"""Metaverse objects in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from hybridsync.core.objects import MVObject
from hybridsync.store import tables
from hybridsync.store.codec import load_attributes, load_lineage
from hybridsync.store.sql.session import CHUNK, SqlSession

T = tables


class SqlMetaverse(SqlSession):
    """Implements :class:`hybridsync.core.storage.MetaverseStore`."""

    def get_mv(self, mv_id: str) -> MVObject | None:
        return self.get_mv_many([mv_id]).get(mv_id)

    def get_mv_many(self, mv_ids: Sequence[str]) -> dict[str, MVObject]:
        found: dict[str, MVObject] = {}
        for start in range(0, len(mv_ids), CHUNK):
            part = list(mv_ids[start : start + CHUNK])
            for row in self._read(select(T.mv_objects).where(T.mv_objects.c.mv_id.in_(part))):
                found[row.mv_id] = MVObject(
                    row.mv_id,
                    row.object_type,
                    load_attributes(row.attributes),
                    load_lineage(row.lineage),
                )
        return found

    def count_mv(self) -> int:
        return int(self._read(select(func.count()).select_from(T.mv_objects)).scalar_one())

    def put_mv(self, mv: MVObject) -> None:
        self._mv_pending[mv.mv_id] = mv
        self._wrote()

    def delete_mv(self, mv_id: str) -> None:
        self._mv_pending[mv_id] = None
        self._wrote()
