"""BulkWriter sends what SQLAlchemy would have sent: same rows, same conversions."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, MetaData, String, Table, create_engine, insert, select

from hybridsync.store.bulk import BulkWriter

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("key", String(10), primary_key=True),
    Column("label", String(20)),
    Column("flag", Boolean, nullable=False),
)


def test_rows_written_in_bulk_read_back_as_sqlalchemy_writes_them() -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        writer = BulkWriter(connection)
        statement = insert(things)
        writer.executemany(statement, [{"key": "a", "label": "x", "flag": True}])
        # Another set of columns for the same statement compiles its own SQL.
        writer.executemany(statement, [{"key": "b", "flag": False}, {"key": "c", "flag": True}])
        connection.execute(insert(things), [{"key": "d", "label": None, "flag": False}])
        rows = connection.execute(select(things).order_by(things.c.key)).all()
        raw = connection.exec_driver_sql("SELECT flag FROM things ORDER BY key").all()
    assert [tuple(row) for row in rows] == [
        ("a", "x", True),
        ("b", None, False),
        ("c", None, True),
        ("d", None, False),
    ]
    assert [row[0] for row in raw] == [1, 0, 1, 0]  # stored as SQLAlchemy stores them
