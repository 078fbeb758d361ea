"""The TOML shape of sync rules, validated with pydantic (the edge of the system)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hybridsync.core.rules import FlowType, LinkType, MergeType, ScopeOperator
from hybridsync.core.storage_limits import NAME_CHARS, RULE_NAME_CHARS

_STRICT = ConfigDict(extra="forbid", populate_by_name=True)


class ScopeClauseModel(BaseModel):
    """One clause of a scope group: an attribute, an operator and a value."""

    model_config = _STRICT
    attribute: str = Field(min_length=1)
    operator: str
    value: str | int | bool = ""

    @field_validator("operator")
    @classmethod
    def _known_operator(cls, value: str) -> str:
        try:
            return ScopeOperator.parse(value).value
        except ValueError:
            known = ", ".join(op.value for op in ScopeOperator)
            raise ValueError(
                f"unknown scope operator {value!r}; use one of {known} "
                "(ISBITNOTSET and NOTSTARTWITH are accepted too)"
            ) from None


class ScopeGroupModel(BaseModel):
    """One ``[[rule.scope]]`` group: its clauses must all hold; a rule's groups are ORed."""

    model_config = _STRICT
    clauses: list[ScopeClauseModel] = Field(min_length=1)


class JoinClauseModel(BaseModel):
    """One clause of a join group: source attribute equals target attribute."""

    model_config = _STRICT
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    case_sensitive: bool = False


class JoinGroupModel(BaseModel):
    """One ``[[rule.join]]`` group: its clauses must all match one object."""

    model_config = _STRICT
    clauses: list[JoinClauseModel] = Field(min_length=1)


class FlowModel(BaseModel):
    """One ``[[rule.flow]]`` entry: a value for ``target`` from sources, a constant or an
    expression."""

    model_config = _STRICT
    target: str = Field(min_length=1)
    type: FlowType
    source: str | None = None
    sources: list[str] | None = None
    value: str | int | bool | None = None
    expression: str | None = None
    apply_once: bool = False
    merge: MergeType = MergeType.UPDATE
    allowed_values: list[str] | None = None
    """Values accepted (case-insensitively) and written in this spelling; anything else
    is an error on the object, naming the value."""

    def source_list(self) -> tuple[str, ...]:
        if self.sources:
            return tuple(self.sources)
        return (self.source,) if self.source else ()


class RuleModel(BaseModel):
    """One ``[[rule]]`` table of a rules file."""

    model_config = _STRICT
    name: str = Field(min_length=1, max_length=RULE_NAME_CHARS)
    description: str = ""
    direction: Literal["inbound", "outbound"]
    connector: str = Field(min_length=1, max_length=NAME_CHARS)
    source_object_type: str = Field(min_length=1, max_length=NAME_CHARS)
    target_object_type: str = Field(min_length=1, max_length=NAME_CHARS)
    link_type: LinkType = LinkType.JOIN
    precedence: int = Field(ge=0)
    disabled: bool = False
    password_sync: bool = False
    from_targets: bool = False
    """An inbound join rule (no join clauses) that also reads objects outbound rules
    provisioned in its connector: they give their metaverse object values, never a link."""
    scope: list[ScopeGroupModel] = Field(default_factory=list)
    join: list[JoinGroupModel] = Field(default_factory=list)
    flow: list[FlowModel] = Field(default_factory=list)


class RuleFileModel(BaseModel):
    """A whole rules file: its ``[[rule]]`` tables."""

    model_config = _STRICT
    rule: list[RuleModel] = Field(default_factory=list)
