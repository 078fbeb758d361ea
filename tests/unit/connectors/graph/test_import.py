"""Full and delta import against the fake Graph."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.unit.connectors.graph.conftest import ConnectorFactory
from tests.unit.connectors.graph.fake_graph import FakeGraph, error
from tests.unit.connectors.graph.support import Sleeps

from hybridsync.connectors.graph.importing import Watermark
from hybridsync.core.ports import ImportKind
from hybridsync.errors import FatalConnectorError

DENIED = "Insufficient privileges to complete the operation."


def seed(graph: FakeGraph, count: int) -> list[str]:
    return [
        graph.add_user(
            userPrincipalName=f"u{i}@contoso.com",
            displayName=f"User {i}",
            accountEnabled=True,
            onPremisesImmutableId=f"A{i}",
            userType="Guest" if i % 2 else "Member",
        )
        for i in range(count)
    ]


def test_full_import_follows_next_links_and_puts_the_watermark_on_the_last_page(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    ids = seed(graph, 5)
    pages = list(make_connector().full_import())
    assert [len(p.objects) for p in pages] == [2, 2, 1]
    assert [p.watermark is None for p in pages] == [True, True, False]
    assert "/users/delta" in (pages[-1].watermark or "")
    objects = [o for p in pages for o in p.objects]
    assert [o.anchor for o in objects] == ids
    first = objects[0]
    assert first.kind is ImportKind.PRESENT
    assert first.attributes["userPrincipalName"] == ("u0@contoso.com",)
    assert first.attributes["accountEnabled"] == (True,)
    assert first.attributes["department"] == ()  # selected but empty: cleared
    assert first.dn == "CN={" + b"A0".hex().upper() + "}"


def test_full_import_selects_the_managed_properties(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    seed(graph, 1)
    list(make_connector(target="entra").full_import())
    listing = next(r for r in graph.requests if r.url.path.endswith("/users"))
    selected = parse_qs(urlsplit(str(listing.url)).query)["$select"][0].split(",")
    assert {"id", "userType", "onPremisesImmutableId", "usageLocation", "employeeId"} <= set(
        selected
    )
    assert "onPremisesSamAccountName" not in selected  # only the project's directory has them


def test_a_change_during_the_full_import_is_seen_by_the_next_delta(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    ids = seed(graph, 3)
    connector = make_connector()
    pages = connector.full_import()
    first = next(pages)
    graph.update_user(ids[0], displayName="Renamed while listing")
    watermark = [p.watermark for p in pages][-1]
    assert first.objects[0].attributes["displayName"] == ("User 0",)
    assert watermark is not None
    changed = [o for p in connector.delta_import(watermark) for o in p.objects]
    assert [o.attributes["displayName"] for o in changed] == [("Renamed while listing",)]


def test_delta_import_reports_updates_and_removals(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    ids = seed(graph, 3)
    connector = make_connector()
    watermark = [p.watermark for p in connector.full_import()][-1]
    assert watermark is not None
    graph.update_user(ids[1], userType="Member")
    graph.remove_user(ids[2])
    pages = list(connector.delta_import(watermark))
    objects = {o.anchor: o for p in pages for o in p.objects}
    assert objects[ids[1]].kind is ImportKind.REPLACE
    assert objects[ids[1]].attributes["userType"] == ("Member",)
    assert objects[ids[2]].kind is ImportKind.DELETE
    assert pages[-1].watermark != watermark


def test_delta_items_with_only_some_properties_are_read_again_in_full(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    ids = seed(graph, 3)
    gone = "u9999"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/users/delta"):
            partial = [{"id": ids[1], "displayName": "New"}, {"id": gone, "displayName": "X"}]
            return httpx.Response(
                200,
                json={
                    "value": [*partial, {"id": ids[2], "@removed": {"reason": "changed"}}],
                    "@odata.deltaLink": "https://graph.test/v1.0/users/delta?$deltatoken=9",
                },
            )
        return graph(request)

    (page,) = make_connector(handler).delta_import(
        "https://graph.test/v1.0/users/delta?$deltatoken=1"
    )
    second, missing, removed = page.objects
    assert second.kind is ImportKind.REPLACE
    assert second.attributes["onPremisesImmutableId"] == ("A1",)
    assert second.dn == "CN={" + b"A1".hex().upper() + "}"
    assert missing.kind is ImportKind.DELETE
    assert missing.anchor == gone
    assert removed.kind is ImportKind.DELETE
    # A watermark of users alone (as written before groups were imported) ends with both.
    assert page.watermark is not None
    links = Watermark.parse(page.watermark)
    assert links.users == "https://graph.test/v1.0/users/delta?$deltatoken=9"
    assert links.groups == "https://graph.test/v1.0/groups/delta?$deltatoken=0"
    lookups = [r for r in graph.requests if r.url.path.endswith("/users")]
    assert len(lookups) == 1


def test_an_expired_delta_token_asks_for_a_full_import(
    make_connector: ConnectorFactory,
) -> None:
    with pytest.raises(FatalConnectorError, match="run a full import"):
        list(
            make_connector().delta_import("https://graph.test/v1.0/users/delta?$deltatoken=expired")
        )


def test_a_watermark_pointing_elsewhere_is_refused_before_any_request(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    with pytest.raises(FatalConnectorError, match="does not point at"):
        list(make_connector().delta_import("https://evil.test/v1.0/users/delta?$deltatoken=1"))
    assert graph.requests == []


def test_a_groups_link_pointing_elsewhere_is_refused_before_any_request(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    links = Watermark(
        "https://graph.test/v1.0/users/delta?$deltatoken=1",
        "https://evil.test/v1.0/groups/delta?$deltatoken=1",
    )
    with pytest.raises(FatalConnectorError, match="does not point at"):
        list(make_connector().delta_import(links.text()))
    assert graph.requests == []


@pytest.mark.parametrize("text", ['{"users": 1}', "{not json", '{"users": "x"}'])
def test_a_watermark_this_connector_did_not_write_asks_for_a_full_import(
    graph: FakeGraph, make_connector: ConnectorFactory, text: str
) -> None:
    with pytest.raises(FatalConnectorError, match="run a full import"):
        list(make_connector().delta_import(text))
    assert graph.requests == []


def test_a_full_import_ends_with_both_links_and_a_delta_follows_them(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    seed(graph, 1)
    connector = make_connector()
    watermark = [p.watermark for p in connector.full_import()][-1]
    assert watermark is not None
    links = Watermark.parse(watermark)
    assert links.users is not None
    assert "/users/delta" in links.users
    assert links.groups == "https://graph.test/v1.0/groups/delta?$deltatoken=0"
    pages = list(connector.delta_import(watermark))
    assert [p.objects for p in pages] == [[]]  # no empty page for a quiet groups round
    assert pages[-1].watermark is not None
    assert Watermark.parse(pages[-1].watermark).groups == links.groups


def test_a_throttled_read_waits_and_goes_on(
    graph: FakeGraph, make_connector: ConnectorFactory, sleeps: Sleeps
) -> None:
    seed(graph, 3)
    state = {"throttled": False}

    def fault(method: str, url: str, body: object):
        if "skiptoken" in url and not state["throttled"]:
            state["throttled"] = True
            return 429, {"Retry-After": "4"}, error(429, "TooManyRequests", "Please retry later.")
        return None

    graph.faults.append(fault)
    pages = list(make_connector().full_import())
    assert sum(len(p.objects) for p in pages) == 3
    assert 4 <= sleeps.delays[0] <= 4.4


def test_a_failing_listing_stops_the_import_instead_of_looking_empty(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    seed(graph, 3)
    graph.faults.append(
        lambda m, u, b: (
            (
                403,
                {},
                error(
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                ),
            )
            if "skiptoken" in u
            else None
        )
    )
    with pytest.raises(FatalConnectorError, match="Insufficient privileges"):
        list(make_connector().full_import())
