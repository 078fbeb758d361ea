"""Sync rule files the tests and benchmarks write beside a config."""

from __future__ import annotations

_CLOUD_FILTER_RULE = """
[[rule]]
name = "%s"
direction = "inbound"
connector = "ad"
source_object_type = "user"
target_object_type = "person"
link_type = "Join"
precedence = %d

[[rule.scope]]
clauses = [{ attribute = "%s", operator = "%s", value = "%s" }]

[[rule.flow]]
target = "cloudFiltered"
type = "Constant"
value = true
"""


def cloud_filter_rule(
    attribute: str, operator: str, value: str, *, name: str, precedence: int = 50
) -> str:
    """An inbound rule that keeps the users its one clause selects out of the cloud
    (``cloudFiltered``), the way Entra Connect filters by attribute or group."""
    return _CLOUD_FILTER_RULE % (name, precedence, attribute, operator, value)


# Group-based filtering, the Entra Connect way: users outside the group (its DN fills the
# %s) are cloudFiltered, so only the group's direct members reach the cloud.
PILOT_RULE = cloud_filter_rule("memberOf", "ISNOTMEMBEROF", "%s", name="In from AD - Pilot only")
