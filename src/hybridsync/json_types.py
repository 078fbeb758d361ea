"""The one name for a decoded JSON object, shared by the Graph client and the cloud directory."""

from __future__ import annotations

from typing import Any

__all__ = ["JsonObject"]

JsonObject = dict[str, Any]
"""A JSON object as ``json.loads`` returns it: string keys, any JSON value."""
