"""``[[connectors]] type = "ad"``: the engine's view of the AD connector's settings."""

from __future__ import annotations

from typing import Literal

from hybridsync.connectors.ad.connector import ADConnector
from hybridsync.connectors.ad.settings import ADSettings

__all__ = ["ADConfig", "build_ad_connector"]


class ADConfig(ADSettings):
    """:class:`ADSettings` plus the connector's name, as one ``[[connectors]]`` entry.

    Example::

        [[connectors]]
        type = "ad"
        name = "ad"
        url = "ldaps://dc1.corp.contoso.com"
        bind_user = "svc-hybridsync@corp.contoso.com"
        password_env = "HYBRIDSYNC_AD_PASSWORD"
        include_ous = [
            "OU=Staff,DC=corp,DC=contoso,DC=com",
            "OU=Partners,DC=corp,DC=contoso,DC=com",
        ]
    """

    type: Literal["ad"] = "ad"
    name: str


def build_ad_connector(config: ADConfig) -> ADConnector:
    settings = ADSettings.model_validate(config.model_dump(exclude={"type", "name"}))
    return ADConnector(config.name, settings)
