"""Group-based filtering (``[filter] group``), Entra Connect's pilot option.

Only the *direct* members of one AD group reach the cloud, users and groups alike; a
member of a nested group does not, and neither does the filtering group itself (it is not
its own member). Two generated inbound rules do it the documented way: objects outside the
group get ``cloudFiltered = True``, which keeps them out of the outbound provisioning rules.
Leaving the group is leaving scope (a delete in the cloud, counted by the deletion
threshold); joining it is entering.

A filtering group the connector space does not hold (misspelled, deleted, outside the
connector's OU scope) would put every object out of scope: the sync stops instead (see
``EngineSettings.filter_groups``).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator

from hybridsync.config.rule_model import FlowModel, RuleModel, ScopeClauseModel, ScopeGroupModel
from hybridsync.core.rules import FlowType, LinkType

PRECEDENCE = 45
"""Below the built-in rules (100 on) and the userType rules (50): a lower number wins."""
FILTERED_TYPES = (("user", "person"), ("group", "group"))
"""(AD object type, metaverse object type) the filter applies to."""


class FilterConfig(BaseModel):
    """``[filter]``: which AD objects are synchronized at all."""

    model_config = ConfigDict(extra="forbid")

    group: str | None = None
    """The DN of the group whose direct members (users and groups) are synchronized."""

    @field_validator("group")
    @classmethod
    def _a_dn(cls, value: str | None) -> str | None:
        if value is None:
            return None
        dn = normal_dn(value)
        if dn is None:
            raise ValueError(
                f"{value!r} is not a distinguished name; write the group's DN, e.g. "
                '"CN=Pilot,OU=Groups,DC=contoso,DC=com"'
            )
        return dn


_RDN_SEPARATOR = re.compile(r"(?<!\\),")
"""A comma not escaped with a backslash ends an RDN (RFC 4514)."""
_ATTRIBUTE_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+")


def normal_dn(value: str) -> str | None:
    """``value`` read as a DN (RFC 4514) and written back in one form: spaces around the
    commas and equals signs, which AD's tools show and accept, are dropped. ``None``: not
    a DN. Parsed here rather than by python-ldap: a configuration loads without it."""
    rdns = []
    for part in _RDN_SEPARATOR.split(value.strip()):
        kind, equals, text = part.partition("=")
        kind, text = kind.strip(), text.strip()
        if not equals or not text or not _ATTRIBUTE_TYPE.fullmatch(kind):
            return None
        rdns.append(f"{kind}={text}")
    return ",".join(rdns)


def rule_name(object_type: str) -> str:
    return f"In from AD - {object_type.title()} Filter Group"


def group_filter_rules(config: FilterConfig, source: str) -> list[RuleModel]:
    """The two inbound rules of ``[filter] group`` for the AD connector ``source``."""
    if config.group is None:
        return []
    outside = ScopeClauseModel(attribute="memberOf", operator="ISNOTMEMBEROF", value=config.group)
    flow = FlowModel(target="cloudFiltered", type=FlowType.CONSTANT, value=True)
    return [
        RuleModel(
            name=rule_name(source_type),
            description=f"[filter] group: only direct members of {config.group} are synced.",
            direction="inbound",
            connector=source,
            source_object_type=source_type,
            target_object_type=target_type,
            link_type=LinkType.JOIN,
            precedence=PRECEDENCE,
            scope=[ScopeGroupModel(clauses=[outside])],
            flow=[flow],
        )
        for source_type, target_type in FILTERED_TYPES
    ]
