"""Configuration of an LDIF source connector."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LdifConfig(BaseModel):
    """``[[connectors]] type = "ldif"``: a directory exported as an LDIF file."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["ldif"] = "ldif"
    name: str
    path: Path
    anchor_attribute: str = "objectGUID"
    object_types: tuple[str, ...] = ("user",)
    domain_fqdn: str | None = Field(
        default=None, description="Domain.FQDN for expressions; derived from DC= parts if unset"
    )
    domain_netbios: str | None = None
    page_size: int = Field(default=1000, ge=1)
    attributes: tuple[str, ...] | None = Field(
        default=None, description="the attribute inclusion list; all attributes when unset"
    )
