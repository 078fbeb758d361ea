"""The ``embedded-cloud`` connector's configuration, apart from the connector: checking a
configuration file must not load the cloud directory (:mod:`hybridsync.wiring.embedded`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EmbeddedCloudConfig(BaseModel):
    """``type = "embedded-cloud"``: a cloud directory kept in ``data_dir``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["embedded-cloud"] = "embedded-cloud"
    name: str = "cloud"
    data_dir: Path = Path("cloud")
    tenant: str = Field(description="the tenant's primary domain, e.g. contoso.com")
    domains: list[str] = Field(
        default_factory=list, description="more verified domains, e.g. partners.contoso.com"
    )
