"""The userType feature: one config entry, the two rules of the documented procedure.

- inbound "In from AD - User UserType", precedence 50, Join, scope
  ``adminDescription NOTSTARTSWITH User_``, flowing the metaverse ``userType``;
- outbound "Out to Cloud - User UserType", precedence 50, Join, scope
  ``sourceObjectType EQUAL User`` and ``cloudMastered NOTEQUAL True``.
Values are normalized to ``Member``/``Guest``; anything else is an error on the object.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hybridsync.config.rule_model import (
    FlowModel,
    RuleModel,
    ScopeClauseModel,
    ScopeGroupModel,
)
from hybridsync.core.rules import FlowType, LinkType

INBOUND_NAME = "In from AD - User UserType"
OUTBOUND_NAME = "Out to Cloud - User UserType"
USER_TYPES = ["Member", "Guest"]
MISSING_UPN = "UserPrincipalName is not present to determine UserType"


class UserTypeConfig(BaseModel):
    """``[user_type]``: where a user's type comes from (exactly one way)."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["attribute", "upn-suffix"] | None = None
    attribute: str = "extensionAttribute1"
    suffixes: list[str] = Field(default_factory=list)
    expression: str | None = None
    precedence: int = Field(default=50, ge=0, le=99)

    @model_validator(mode="after")
    def _one_way(self) -> UserTypeConfig:
        if (self.source is None) == (self.expression is None):
            raise ValueError("set either source = 'attribute' | 'upn-suffix', or expression")
        if self.source == "upn-suffix" and not self.suffixes:
            raise ValueError("source = 'upn-suffix' needs suffixes, e.g. ['@partners.contoso.com']")
        return self


def user_type_rules(config: UserTypeConfig, source: str, target: str) -> list[RuleModel]:
    return [_inbound(config, source), _outbound(config, target)]


def _inbound(config: UserTypeConfig, connector: str) -> RuleModel:
    if config.source == "attribute":
        expression = attribute_expression(config.attribute)
    else:
        expression = config.expression or upn_suffix_expression(config.suffixes)
    flow = FlowModel(
        target="userType",
        type=FlowType.EXPRESSION,
        expression=expression,
        allowed_values=USER_TYPES,
    )
    # Shadow accounts of cloud guests (adminDescription User_...) never sync up again.
    shadow = ScopeClauseModel(attribute="adminDescription", operator="NOTSTARTSWITH", value="User_")
    description = "userType from " + (config.source or "an expression")
    return _join_rule(INBOUND_NAME, description, "inbound", connector, ("user", "person"),
                      config.precedence, [shadow], flow)  # fmt: skip


def _outbound(config: UserTypeConfig, connector: str) -> RuleModel:
    clauses = [
        ScopeClauseModel(attribute="sourceObjectType", operator="EQUAL", value="User"),
        ScopeClauseModel(attribute="cloudMastered", operator="NOTEQUAL", value="True"),
    ]
    flow = FlowModel(target="userType", type=FlowType.DIRECT, source="userType")
    return _join_rule(OUTBOUND_NAME, "userType to the cloud", "outbound", connector,
                      ("person", "user"), config.precedence, clauses, flow)  # fmt: skip


def _join_rule(
    name: str,
    description: str,
    direction: Literal["inbound", "outbound"],
    connector: str,
    object_types: tuple[str, str],
    precedence: int,
    clauses: list[ScopeClauseModel],
    flow: FlowModel,
) -> RuleModel:
    """A join rule with one scoping group and one flow (the two userType rules)."""
    source_type, target_type = object_types
    return RuleModel(name=name, description=description, direction=direction,
                     connector=connector, source_object_type=source_type,
                     target_object_type=target_type, link_type=LinkType.JOIN,
                     precedence=precedence, scope=[ScopeGroupModel(clauses=clauses)],
                     flow=[flow])  # fmt: skip


def attribute_expression(attribute: str) -> str:
    """The attribute's value, ``Member`` when the user has none: a null userType would
    never match the cloud's default ``Member`` and keep the user pending forever."""
    return f'IIF(IsPresent([{attribute}]), [{attribute}], "Member")'


def upn_suffix_expression(suffixes: list[str]) -> str:
    """Guest when the UPN ends with a suffix (case-insensitive); no UPN is an error.

    Stricter than the documented ``InStr(...)=0`` (a contains test): the suffix must
    end the UPN.
    """
    tests = " || ".join(
        f'Right(LCase([userPrincipalName]), {len(suffix)}) = "{_quote(suffix.lower())}"'
        for suffix in suffixes
    )
    return (
        f'IIF(IsPresent([userPrincipalName]), IIF({tests}, "Guest", "Member"), '
        f'Error("{MISSING_UPN}"))'
    )


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
