"""Directory role assignments: who holds which built-in role, per tenant.

The table lives in a metadata of its own (like sign-in's), created when the service starts;
the directory's own schema stays untouched.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from hybridsync.cloud.db import Database
from hybridsync.cloud.errors import GraphError
from hybridsync.cloud.keys import utcnow

metadata = sa.MetaData()

role_assignments = sa.Table(
    "directory_role_assignments",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("principal_id", sa.String(36), nullable=False),
    sa.Column("role_definition_id", sa.String(36), nullable=False),
    sa.Column("directory_scope_id", sa.String(64), nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("tenant_id", "principal_id", "role_definition_id", "directory_scope_id"),
    sa.Index("role_assignments_by_principal", "tenant_id", "principal_id"),
)

TENANT_SCOPE = "/"


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """A principal holding a built-in role (its role definition id) at tenant scope."""

    id: str
    tenant_id: str
    principal_id: str
    role_definition_id: str
    directory_scope_id: str
    created: dt.datetime


class RoleAssignments:
    """The role assignments of every tenant, in a table of their own."""

    def __init__(self, db: Database) -> None:
        self._db = db
        metadata.create_all(db.engine)

    def assign(self, tenant_id: str, principal_id: str, role_definition_id: str) -> RoleAssignment:
        """Add an assignment at tenant scope; 409 if the principal already holds the role."""
        found = RoleAssignment(
            str(uuid.uuid4()), tenant_id, principal_id, role_definition_id, TENANT_SCOPE, utcnow()
        )
        try:
            with self._db.write() as conn:
                if conn.execute(_select(tenant_id, principal_id, role_definition_id)).first():
                    raise _already_held(principal_id, role_definition_id)
                conn.execute(
                    sa.insert(role_assignments).values(
                        id=found.id, tenant_id=tenant_id, principal_id=principal_id,
                        role_definition_id=role_definition_id, directory_scope_id=TENANT_SCOPE,
                        created=found.created,
                    )
                )  # fmt: skip
        except sa.exc.IntegrityError as exc:
            # What two workers assigning the same role at once meet: the unique key.
            raise _already_held(principal_id, role_definition_id) from exc
        return found

    def remove(self, tenant_id: str, assignment_id: str) -> bool:
        with self._db.write() as conn:
            result = conn.execute(
                sa.delete(role_assignments).where(
                    role_assignments.c.tenant_id == tenant_id,
                    role_assignments.c.id == assignment_id,
                )
            )
        return bool(result.rowcount)

    def get(self, tenant_id: str, assignment_id: str) -> RoleAssignment | None:
        found = self.list(tenant_id, assignment_id=assignment_id)
        return found[0] if found else None

    def list(
        self,
        tenant_id: str,
        *,
        principal_id: str | None = None,
        role_definition_id: str | None = None,
        assignment_id: str | None = None,
    ) -> list[RoleAssignment]:
        query = sa.select(role_assignments).where(role_assignments.c.tenant_id == tenant_id)
        if principal_id is not None:
            query = query.where(role_assignments.c.principal_id == principal_id)
        if role_definition_id is not None:
            query = query.where(role_assignments.c.role_definition_id == role_definition_id)
        if assignment_id is not None:
            query = query.where(role_assignments.c.id == assignment_id)
        with self._db.read() as conn:
            rows = conn.execute(query.order_by(role_assignments.c.created)).all()
        return [
            RoleAssignment(
                r.id, r.tenant_id, r.principal_id, r.role_definition_id, r.directory_scope_id,
                r.created,
            )
            for r in rows
        ]  # fmt: skip

    def roles_of(self, tenant_id: str, principal_id: str) -> frozenset[str]:
        """The template ids of the roles ``principal_id`` holds."""
        query = sa.select(role_assignments.c.role_definition_id).where(
            role_assignments.c.tenant_id == tenant_id,
            role_assignments.c.principal_id == principal_id,
        )
        with self._db.read() as conn:
            return frozenset(conn.execute(query).scalars())


def _already_held(principal_id: str, role_definition_id: str) -> GraphError:
    return GraphError(
        409,
        "Request_BadRequest",
        f"A conflicting object with one or more of the specified property values is present"
        f" in the directory: principal '{principal_id}' already holds role"
        f" '{role_definition_id}'.",
    )


def _select(tenant_id: str, principal_id: str, role_definition_id: str) -> sa.Select[tuple[str]]:
    return sa.select(role_assignments.c.id).where(
        role_assignments.c.tenant_id == tenant_id,
        role_assignments.c.principal_id == principal_id,
        role_assignments.c.role_definition_id == role_definition_id,
        role_assignments.c.directory_scope_id == TENANT_SCOPE,
    )
