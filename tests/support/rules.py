"""Sync rule files the tests write beside a config."""

from __future__ import annotations

# Group-based filtering, the Entra Connect way: users outside the group (its DN fills the
# %s) are cloudFiltered, so only the group's direct members reach the cloud.
PILOT_RULE = """
[[rule]]
name = "In from AD - Pilot only"
description = "Only members of the pilot group go to the cloud (group-based filtering)."
direction = "inbound"
connector = "ad"
source_object_type = "user"
target_object_type = "person"
link_type = "Join"
precedence = 50

[[rule.scope]]
clauses = [{ attribute = "memberOf", operator = "ISNOTMEMBEROF", value = "%s" }]

[[rule.flow]]
target = "cloudFiltered"
type = "Constant"
value = true
"""
