"""Connect's connectors as the ``[[connectors]]`` of a ``hybridsync.toml``."""

from __future__ import annotations

from hybridsync.config.migrate.export import Connector, Partition, ServerExport
from hybridsync.config.migrate.report import MigrationReport

AD_PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"
GRAPH_SECRET_ENV = "HYBRIDSYNC_GRAPH_CLIENT_SECRET"
CLIENT_ID_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def ad_connector(connector: Connector, name: str, report: MigrationReport) -> dict[str, object]:
    domains = [p for p in connector.partitions if p.selected]
    if len(domains) > 1:
        report.notes.append(
            f"{connector.name}: {len(domains)} domain partitions; the first "
            f"({domains[0].name}) is configured, add one AD connector per other domain"
        )
    partition = domains[0] if domains else None
    host = partition.parameters.get("last-dc", "") if partition else ""
    table: dict[str, object] = {
        "type": "ad",
        "name": name,
        "url": f"ldaps://{host or connector.forest}",
        "bind_user": _bind_user(connector),
        "password_env": AD_PASSWORD_ENV,
    }
    report.placeholders.append(
        f"connector {name!r}: the bind password in the environment variable {AD_PASSWORD_ENV} "
        f"(Connect's account was {connector.login_domain}\\{connector.login_user})"
    )
    if partition is not None:
        table["base_dn"] = partition.name
        include, exclude = containers(partition)
        table["include_ous"] = list(include)
        table["exclude_ous"] = list(exclude)
        if set(exclude) != set(partition.exclusions):
            report.notes.append(
                f"connector {name!r}: exclusions that contain an inclusion "
                f"({', '.join(sorted(set(partition.exclusions) - set(exclude)))}) are "
                "expressed by include_ous alone"
            )
    table["attributes"] = list(connector.attribute_inclusion)
    return table


def _bind_user(connector: Connector) -> str:
    if connector.login_user and connector.login_domain:
        return f"{connector.login_user}@{connector.login_domain}"
    return connector.login_user or f"svc-hybridsync@{connector.forest}"


def containers(partition: Partition) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Connect's container tree as include_ous and exclude_ous.

    In Connect the nearest selection wins: an excluded domain root with an included OU
    means "only that OU". hybridsync's exclusions win over inclusions, so an exclusion
    that contains an inclusion becomes "include only the inclusions".
    """
    include = tuple(dn for dn in partition.inclusions if dn.lower() != partition.name.lower())
    exclude = tuple(
        dn for dn in partition.exclusions if not any(_under(inc, dn) for inc in include)
    )
    return include, exclude


def _under(dn: str, ancestor: str) -> bool:
    dn, ancestor = dn.lower(), ancestor.lower()
    return dn == ancestor or dn.endswith("," + ancestor)


def graph_connector(connector: Connector, report: MigrationReport) -> dict[str, object]:
    tenant = connector.name.removesuffix(" - AAD").strip() or "organizations"
    report.placeholders.append(
        f"connector 'cloud': client_id (an application registered in {tenant}) and its "
        f"secret in the environment variable {GRAPH_SECRET_ENV}"
    )
    return {
        "type": "graph",
        "name": "cloud",
        "authority": f"https://login.microsoftonline.com/{tenant}",
        "client_id": CLIENT_ID_PLACEHOLDER,
        "client_secret_env": GRAPH_SECRET_ENV,
    }


def connector_tables(
    export: ServerExport, names: dict[str, str], report: MigrationReport
) -> list[dict[str, object]]:
    tables: list[dict[str, object]] = []
    for connector in export.connectors:
        name = names.get(connector.id.lower())
        if name is None:
            report.notes.append(
                f"connector {connector.name!r} ({connector.category}) is not carried over: "
                "hybridsync has AD and Graph connectors only"
            )
        elif connector.is_active_directory:
            tables.append(ad_connector(connector, name, report))
        else:
            tables.append(graph_connector(connector, report))
    return tables
