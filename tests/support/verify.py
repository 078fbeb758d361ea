"""What the ``migrate verify`` tests share: a changed rule and the tenant's departments."""

from __future__ import annotations

from pathlib import Path

from tests.support.cloud_server import CloudTenant

# An inbound rule placed before the built-in ones: the Sales department becomes a
# constant, as a migrated rule whose flow was carried over wrongly would.
CHANGED_RULE = """
[[rule]]
name = "In from AD - Department constant"
direction = "inbound"
connector = "ad"
source_object_type = "user"
target_object_type = "person"
link_type = "Join"
precedence = 50

[[rule.scope]]
clauses = [{ attribute = "department", operator = "EQUAL", value = "Sales" }]

[[rule.flow]]
target = "department"
type = "Constant"
value = "Sales EMEA"
"""


def departments(tenant: CloudTenant) -> dict[str, str | None]:
    return tenant.property_by_upn("department")


def with_changed_rule(config: Path) -> Path:
    """The same configuration plus the changed rule, and ``staging_mode = false``: verify
    must export nothing whatever the file says."""
    (config.parent / "changed-rule.toml").write_text(CHANGED_RULE, "utf-8")
    changed = config.parent / "changed.toml"
    text = config.read_text("utf-8")
    changed.write_text(
        'staging_mode = false\nrules = ["changed-rule.toml"]\n' + text, encoding="utf-8"
    )
    return changed
