"""What the domain controller says about its forest and domain (rootDSE, Partitions)."""

from __future__ import annotations

from dataclasses import dataclass

from hybridsync.connectors.ad.connection import Connection, RawEntry
from hybridsync.connectors.ad.convert import anchor_of
from hybridsync.connectors.ad.settings import ADSettings
from hybridsync.errors import FatalConnectorError

__all__ = ["DomainInfo", "UsnState", "discover", "read_usn_state"]

ROOT_DSE_ATTRIBUTES = (
    "defaultNamingContext", "rootDomainNamingContext", "configurationNamingContext",
    "dnsHostName", "dsServiceName",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DomainInfo:
    domain_dn: str
    domain_fqdn: str
    domain_netbios: str
    forest_dn: str
    forest_fqdn: str
    forest_netbios: str
    dns_host_name: str
    ds_service_name: str

    def parameters(self) -> dict[str, str]:
        """The expression parameters ``%Domain.FQDN%``, ``%Forest.LDAP%``..."""
        return {
            "Domain.FQDN": self.domain_fqdn,
            "Domain.Netbios": self.domain_netbios,
            "Domain.LDAP": self.domain_dn,
            "Forest.FQDN": self.forest_fqdn,
            "Forest.Netbios": self.forest_netbios,
            "Forest.LDAP": self.forest_dn,
        }


@dataclass(frozen=True, slots=True)
class UsnState:
    invocation_id: str
    highest_committed_usn: int


def _text(entry: RawEntry, name: str) -> str:
    values = entry[1].get(name)
    if not values:
        raise FatalConnectorError(f"the server's {entry[0] or 'rootDSE'} has no {name}")
    return values[0].decode("utf-8")


def _root_dse(conn: Connection, attributes: tuple[str, ...]) -> RawEntry:
    entry = conn.read_entry("", attributes)
    if entry is None:
        raise FatalConnectorError(f"{conn.server} has no rootDSE: is it a directory server?")
    return entry


def _cross_ref(conn: Connection, configuration_dn: str, nc: str) -> tuple[str, str]:
    """(dnsRoot, nETBIOSName) of the domain whose naming context is ``nc``."""
    base = f"CN=Partitions,{configuration_dn}"
    filterstr = f"(&(objectClass=crossRef)(nCName={nc})(nETBIOSName=*))"
    for page in conn.paged_search(base, filterstr, ["dnsRoot", "nETBIOSName"]):
        for entry in page:
            return _text(entry, "dnsRoot"), _text(entry, "nETBIOSName")
    raise FatalConnectorError(f"no crossRef for {nc} under {base}")


def discover(conn: Connection, base_dn: str | None = None) -> DomainInfo:
    """Read the forest and domain names; ``base_dn`` overrides the default domain."""
    root = _root_dse(conn, ROOT_DSE_ATTRIBUTES)
    configuration = _text(root, "configurationNamingContext")
    domain_dn = base_dn or _text(root, "defaultNamingContext")
    if base_dn is not None and conn.read_entry(base_dn, ["objectGUID"]) is None:
        raise FatalConnectorError(
            f"base_dn {base_dn} does not exist on {conn.server}: give a domain this DC holds"
        )
    forest_dn = _text(root, "rootDomainNamingContext")
    domain_fqdn, domain_netbios = _cross_ref(conn, configuration, domain_dn)
    forest_fqdn, forest_netbios = _cross_ref(conn, configuration, forest_dn)
    return DomainInfo(
        domain_dn=domain_dn,
        domain_fqdn=domain_fqdn,
        domain_netbios=domain_netbios,
        forest_dn=forest_dn,
        forest_fqdn=forest_fqdn,
        forest_netbios=forest_netbios,
        dns_host_name=_text(root, "dnsHostName"),
        ds_service_name=_text(root, "dsServiceName"),
    )


def read_usn_state(conn: Connection, ds_service_name: str) -> UsnState:
    """This DC's database identity and its highest committed USN, read now."""
    usn = int(_text(_root_dse(conn, ("highestCommittedUSN",)), "highestCommittedUSN"))
    settings = conn.read_entry(ds_service_name, ["invocationId"])
    if settings is None or not settings[1].get("invocationId"):
        raise FatalConnectorError(f"cannot read invocationId of {ds_service_name}")
    return UsnState(anchor_of(settings[1]["invocationId"][0]), usn)


class DomainSession:
    """One LDAP connection to a domain, and what discovery found there (read once).

    The base of the AD connector and of password hash sync's change feed: both close
    their own connection and discover the domain on first use.
    """

    def __init__(self, settings: ADSettings, connection: Connection | None = None) -> None:
        self._settings = settings
        self._conn = connection or Connection(settings)
        self._info: DomainInfo | None = None

    def close(self) -> None:
        self._conn.close()

    def _domain(self) -> DomainInfo:
        if self._info is None:
            self._info = discover(self._conn, self._settings.base_dn)
        return self._info
