"""SQLAlchemy Core tables, shared by every dialect."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text

from hybridsync.core.storage_limits import ANCHOR_CHARS, NAME_CHARS, RULE_NAME_CHARS

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("applied_at", String(40), nullable=False),
)

cs_objects = Table(
    "cs_objects",
    metadata,
    Column("cs_id", String(36), primary_key=True),
    Column("connector", String(NAME_CHARS), nullable=False),
    Column("anchor", String(ANCHOR_CHARS)),
    Column("dn", Text, nullable=False),
    Column("object_type", String(NAME_CHARS), nullable=False),
    Column("attributes", Text, nullable=False),
    Column("pending_import", String(10), nullable=False),
    Column("mv_id", String(36)),
    Column("joined_by", String(RULE_NAME_CHARS)),
    Column("keeps_mv", Boolean, nullable=False),
    Column("pending_export", Text),
    Column("unconfirmed", Text),
    Column("export_in_flight", Boolean, nullable=False),
    Column("to_export", Boolean, nullable=False),
)
Index("cs_anchor", cs_objects.c.connector, cs_objects.c.anchor)
Index("cs_dn", cs_objects.c.connector, cs_objects.c.dn)
Index("cs_mv", cs_objects.c.mv_id)
CS_UNLINKED = Index("cs_connector_mv", cs_objects.c.connector, cs_objects.c.mv_id)
"""Finds a connector's unlinked objects without reading the other connectors' ones
(asked once per sync batch: without it, a scan that grows with the store)."""
Index("cs_pending", cs_objects.c.connector, cs_objects.c.pending_import)
Index("cs_export", cs_objects.c.connector, cs_objects.c.to_export)

mv_objects = Table(
    "mv_objects",
    metadata,
    Column("mv_id", String(36), primary_key=True),
    Column("object_type", String(NAME_CHARS), nullable=False),
    Column("attributes", Text, nullable=False),
    Column("lineage", Text, nullable=False),
)

value_index = Table(
    "value_index",
    metadata,
    Column("space", String(100), nullable=False),
    Column("attribute", String(200), nullable=False),
    Column("value_key", Text, nullable=False),
    Column("value_key_ci", Text, nullable=False),
    Column("object_id", String(36), nullable=False),
)
Index("value_exact", value_index.c.space, value_index.c.attribute, value_index.c.value_key)
Index("value_ci", value_index.c.space, value_index.c.attribute, value_index.c.value_key_ci)
Index("value_object", value_index.c.object_id)

import_staging = Table(
    "import_staging",
    metadata,
    Column("connector", String(NAME_CHARS), nullable=False),
    Column("anchor", String(ANCHOR_CHARS), nullable=False),
    Column("dn", Text, nullable=False),
    Column("object_type", String(NAME_CHARS), nullable=False),
    Column("attributes", Text, nullable=False),
)
Index("staging_anchor", import_staging.c.connector, import_staging.c.anchor)

connector_state = Table(
    "connector_state",
    metadata,
    Column("connector", String(100), primary_key=True),
    Column("watermark", Text),
    Column("attribute_hash", String(100), nullable=False),
    Column("rules_hash", String(100), nullable=False),
    Column("full_import_required", Boolean, nullable=False),
    Column("full_sync_required", Boolean, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), nullable=False, unique=True),
    Column("connector", String(100), nullable=False),
    Column("profile", String(40), nullable=False),
    Column("status", String(60), nullable=False),
    Column("started", String(40), nullable=False),
    Column("ended", String(40)),
    Column("counts", Text, nullable=False),
    Column("message", Text, nullable=False),
)

run_errors = Table(
    "run_errors",
    metadata,
    Column("run_id", String(36), nullable=False),
    Column("connector", String(100), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("dn", Text, nullable=False),
    Column("anchor", String(400)),
    Column("rule", String(400)),
    Column("attribute", String(200)),
    Column("message", Text, nullable=False),
)
Index("run_errors_run", run_errors.c.run_id)

password_sync_state = Table(
    "password_sync_state",
    metadata,
    Column("connector", String(NAME_CHARS), primary_key=True),
    Column("watermark", Text),
    Column("state", Text, nullable=False),
)
"""The PHS runner's state (store/password_hash_sync.py): no secret in it."""

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("actor", String(400), nullable=False),
    Column("action", String(60), nullable=False),
    Column("target", Text, nullable=False),
    Column("plan_hash", String(100)),
    Column("outcome", Text, nullable=False),
)
"""What console operators did (store/audit.py): who, what, when, and an apply's plan."""
