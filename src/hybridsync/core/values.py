"""Attribute values as they cross the connector boundary.

Every attribute holds a tuple of values, single-valued ones included (one element);
an empty tuple means the attribute is absent. The connector's schema says which
attributes are multi-valued.
"""

from __future__ import annotations

from collections.abc import Mapping

from hybridsync.expressions.values import Reference

__all__ = ["AttributeValue", "Attributes", "Reference", "Values"]

AttributeValue = str | bytes | int | bool | Reference
Values = tuple[AttributeValue, ...]
Attributes = Mapping[str, Values]
