"""The Active Directory connector (python-ldap; the only package that imports ``ldap``).

::

    from hybridsync.connectors.ad import ADConnector, ADSettings

    settings = ADSettings(url="ldaps://dc1.corp.contoso.com", bind_user="svc@corp.contoso.com",
                          password_env="HYBRIDSYNC_AD_PASSWORD")
    connector = ADConnector("corp", settings)
    for page in connector.full_import():
        ...

See ``docs/ad.md`` for permissions, filtering, and DirSync versus the USN fallback.
"""

from __future__ import annotations

from hybridsync.connectors.ad.config import ADConfig, build_ad_connector
from hybridsync.connectors.ad.connector import ADConnector
from hybridsync.connectors.ad.settings import DEFAULT_ATTRIBUTES, ADSettings, DeltaMode

__all__ = [
    "DEFAULT_ATTRIBUTES",
    "ADConfig",
    "ADConnector",
    "ADSettings",
    "DeltaMode",
    "build_ad_connector",
]
