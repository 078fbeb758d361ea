"""Group exports: the requests the Graph connector sends for a group, answered by a
recorder standing for Graph (the served cloud directory answers them for real in
tests/integration/graph/test_groups_to_cloud.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import pytest
from tests.unit.connectors.graph.conftest import ConnectorFactory
from tests.unit.connectors.graph.fake_graph import BASE, FakeGraph
from tests.unit.connectors.graph.support import config

from hybridsync.connectors.graph.groups import MAX_BIND
from hybridsync.connectors.graph.importing import Watermark
from hybridsync.core.ports import (
    AttributeChange,
    ExportChange,
    ExportKind,
    ExportOutcome,
    ImportedObject,
    ImportKind,
    ValueChanges,
)
from hybridsync.core.values import Reference

GROUP_ID = "0b8f3e1a-0000-4000-8000-000000000001"
ALREADY = "One or more added object references already exist for the following modified"


def _id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


class Recorder:
    """Answers every ``$batch`` item as done (a create with a new id), or as ``answers``
    says for a URL; records the items of each ``$batch``."""

    def __init__(self, answers: dict[str, tuple[int, Any]] | None = None) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.answers = answers or {}
        self.lose: set[str] = set()
        """URLs whose item gets no answer once (a lost answer)."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/$batch")
        items = json.loads(request.content)["requests"]
        assert len(items) <= 20
        self.batches.append(items)
        responses = []
        for item in items:
            if item["url"] in self.lose:
                self.lose.discard(item["url"])
                continue
            status, body = self.answers.get(item["url"], (204, None))
            if item["method"] == "POST" and item["url"] == "/groups":
                status, body = 201, {"id": GROUP_ID, **item["body"]}
            responses.append({"id": item["id"], "status": status, "headers": {}, "body": body})
        return httpx.Response(200, json={"responses": responses})

    def sent(self) -> list[tuple[str, str]]:
        return [(i["method"], i["url"]) for batch in self.batches for i in batch]


def members_change(new: list[int], old: list[int], **extra: Any) -> ExportChange:
    changes = [AttributeChange("members", tuple(Reference(_id(n)) for n in new))]
    changes += [AttributeChange(k, (v,)) for k, v in extra.items()]
    return ExportChange(
        "g1",
        ExportKind.UPDATE,
        GROUP_ID,
        "CN=partners",
        "group",
        tuple(changes),
        previous={"members": tuple(Reference(_id(n)) for n in old)},
    )


def test_adding_one_member_sends_one_member_addition(make_connector: ConnectorFactory) -> None:
    recorder = Recorder()
    big = list(range(1, 5001))
    (result,) = make_connector(recorder).export([members_change([*big, 9999], big)])
    assert result.outcome is ExportOutcome.APPLIED
    assert recorder.sent() == [("POST", f"/groups/{GROUP_ID}/members/$ref")]
    (item,) = recorder.batches[0]
    assert item["body"] == {"@odata.id": f"{BASE}/directoryObjects/{_id(9999)}"}


def test_members_removed_and_added_with_a_property_change(
    make_connector: ConnectorFactory,
) -> None:
    recorder = Recorder()
    change = members_change([1, 3, 4], [1, 2], description="Partners")
    (result,) = make_connector(recorder).export([change])
    assert result.outcome is ExportOutcome.APPLIED
    assert sorted(recorder.sent()) == [
        ("DELETE", f"/groups/{GROUP_ID}/members/{_id(2)}/$ref"),
        ("PATCH", f"/groups/{GROUP_ID}"),
        ("POST", f"/groups/{GROUP_ID}/members/$ref"),
        ("POST", f"/groups/{GROUP_ID}/members/$ref"),
    ]
    patch = next(i for b in recorder.batches for i in b if i["method"] == "PATCH")
    assert patch["body"] == {"description": "Partners"}  # members never in a PATCH


def test_many_member_changes_go_out_in_batches_of_twenty(
    make_connector: ConnectorFactory,
) -> None:
    recorder = Recorder()
    (result,) = make_connector(recorder).export([members_change(list(range(45)), [])])
    assert result.outcome is ExportOutcome.APPLIED
    assert [len(batch) for batch in recorder.batches] == [20, 20, 5]


def test_member_changes_go_out_in_batches_the_smallest_write_quota_allows(
    make_connector: ConnectorFactory,
) -> None:
    """One group change may take more requests than a configured quota lets out at once:
    its ``$batch`` requests are cut to that size instead of failing the export."""
    recorder = Recorder()
    quota = [{"requests": 6, "per_seconds": 0.01}]
    connector = make_connector(recorder, write_quotas=quota)
    (result,) = connector.export([members_change(list(range(15)), [])])
    assert result.outcome is ExportOutcome.APPLIED
    assert [len(batch) for batch in recorder.batches] == [6, 6, 3]


def test_member_changes_over_many_groups_fill_their_batches(
    make_connector: ConnectorFactory,
) -> None:
    """100 member changes over 60 groups (one or two each) go out in 5 full ``$batch``
    requests, whatever their order: not in chunks of 20 groups, nor in chunks of 19
    requests that a group of two no longer fits in (6 requests, some part-filled)."""
    recorder = Recorder()
    ones, twos = [], []
    for group in range(60):
        old = [1] if group < 50 else []  # groups 0-49 lose member 1
        new = [2] if group >= 10 else []  # groups 10-59 gain member 2
        change = members_change(new, old)
        change = replace(change, change_id=f"g{group}", anchor=_id(1000 + group))
        (twos if len(old) + len(new) == 2 else ones).append(change)
    changes = []
    for _ in range(4):  # 1 + 9 x 2 = 19 requests, then a 2 that does not fit
        changes += [ones.pop(), *(twos.pop() for _ in range(9))]
    changes += ones + twos
    results = list(make_connector(recorder).export(changes))
    assert len(results) == 60
    assert all(result.outcome is ExportOutcome.APPLIED for result in results)
    assert [len(batch) for batch in recorder.batches] == [20] * 5


def test_a_member_already_there_or_already_gone_counts_as_done(
    make_connector: ConnectorFactory,
) -> None:
    already = (400, {"error": {"code": "Request_BadRequest", "message": ALREADY}})
    gone = (404, {"error": {"code": "Request_ResourceNotFound", "message": "Resource 'x'"}})
    recorder = Recorder(
        {
            f"/groups/{GROUP_ID}/members/$ref": already,
            f"/groups/{GROUP_ID}/members/{_id(2)}/$ref": gone,
        }
    )
    (result,) = make_connector(recorder).export([members_change([1], [2])])
    assert result.outcome is ExportOutcome.APPLIED


def test_a_member_addition_whose_answer_is_lost_is_sent_again(
    make_connector: ConnectorFactory,
) -> None:
    # Adding a member twice is refused as done: a lost answer is resent, never UNKNOWN.
    recorder = Recorder()
    recorder.lose.add(f"/groups/{GROUP_ID}/members/$ref")
    (result,) = make_connector(recorder).export([members_change([1], [])])
    assert result.outcome is ExportOutcome.APPLIED
    assert recorder.sent().count(("POST", f"/groups/{GROUP_ID}/members/$ref")) == 2


def test_a_refused_member_is_the_groups_error(make_connector: ConnectorFactory) -> None:
    missing = (404, {"error": {"code": "Request_ResourceNotFound", "message": "no such member"}})
    recorder = Recorder({f"/groups/{GROUP_ID}/members/$ref": missing})
    (result,) = make_connector(recorder).export([members_change([1], [])])
    assert result.outcome is ExportOutcome.REJECTED
    assert "no such member" in (result.message or "")


def _add(members: int) -> ExportChange:
    attributes = {
        "displayName": ("Partners",),
        "mailNickname": ("Partners X",),
        "onPremisesSecurityIdentifier": ("S-1-5-21-1-2-3-1102",),
        "members": tuple(Reference(_id(n)) for n in range(members)),
        "cloudFiltered": (),
    }
    changes = tuple(AttributeChange(k, v) for k, v in attributes.items())
    return ExportChange("g1", ExportKind.ADD, None, "CN=partners", "group", changes)


def test_a_new_group_binds_its_first_members(make_connector: ConnectorFactory) -> None:
    recorder = Recorder()
    (result,) = make_connector(recorder).export([_add(2)])
    assert result.outcome is ExportOutcome.APPLIED
    assert result.anchor == GROUP_ID
    (item,) = recorder.batches[0]
    assert item["body"] == {
        "displayName": "Partners",
        "mailNickname": "PartnersX",
        "onPremisesSecurityIdentifier": "S-1-5-21-1-2-3-1102",
        "securityEnabled": True,
        "mailEnabled": False,
        "members@odata.bind": [f"{BASE}/directoryObjects/{_id(n)}" for n in range(2)],
    }


def test_a_new_group_with_more_members_than_one_request_binds_is_refused(
    make_connector: ConnectorFactory,
) -> None:
    recorder = Recorder()
    (result,) = make_connector(recorder).export([_add(MAX_BIND + 1)])
    assert result.outcome is ExportOutcome.REJECTED
    assert "members: 21 members for a new group" in (result.message or "")
    assert recorder.batches == []


def test_a_member_that_is_no_cloud_id_is_refused_unsent(make_connector: ConnectorFactory) -> None:
    # An attacker's value must not turn into a request to another path.
    recorder = Recorder()
    change = members_change([], [])
    change = ExportChange(
        change.change_id, change.kind, change.anchor, change.dn, "group",
        (AttributeChange("members", (Reference("../../users/x"),)),),
    )  # fmt: skip
    (result,) = make_connector(recorder).export([change])
    assert result.outcome is ExportOutcome.REJECTED
    assert "is not a cloud object id" in (result.message or "")
    assert recorder.batches == []


def test_a_group_is_deleted_by_its_id(make_connector: ConnectorFactory) -> None:
    recorder = Recorder()
    change = ExportChange("g1", ExportKind.DELETE, GROUP_ID, "CN=partners", "group")
    (result,) = make_connector(recorder).export([change])
    assert result.outcome is ExportOutcome.APPLIED
    assert recorder.sent() == [("DELETE", f"/groups/{GROUP_ID}")]


def test_a_lost_create_is_read_back_by_the_security_identifier(
    make_connector: ConnectorFactory,
) -> None:
    asked: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        group = {"id": GROUP_ID, "displayName": "Partners", "mailNickname": "PartnersX"}
        return httpx.Response(200, json={"value": [group]})

    found = make_connector(handler).read_back(_add(0))
    assert found is not None
    assert found.anchor == GROUP_ID
    assert found.object_type == "group"
    (url,) = asked
    assert url.path == "/v1.0/groups"
    assert url.params["$filter"] == "onPremisesSecurityIdentifier eq 'S-1-5-21-1-2-3-1102'"


def test_against_entra_a_lost_create_cannot_be_read_back(
    make_connector: ConnectorFactory,
) -> None:
    asked: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(500)

    assert make_connector(handler, target="entra").read_back(_add(0)) is None
    assert asked == []


def test_a_group_spread_over_first_round_pages_keeps_all_its_members(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    def item(members: list[int]) -> dict[str, Any]:
        return {
            "id": GROUP_ID,
            "displayName": "Partners",
            "members@delta": [{"id": _id(n)} for n in members],
        }

    link = f"{BASE}/groups/delta?$skiptoken=2"
    pages = {
        "first": {"value": [item([1, 2])], "@odata.nextLink": link},
        "second": {"value": [item([3])], "@odata.deltaLink": f"{BASE}/groups/delta?$deltatoken=5"},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/groups/delta"):
            page = "second" if "skiptoken" in str(request.url) else "first"
            return httpx.Response(200, json=pages[page])
        return graph(request)

    objects = [o for p in make_connector(handler).full_import() for o in p.objects]
    last = [o for o in objects if o.anchor == GROUP_ID][-1]
    assert last.attributes["members"] == tuple(Reference(_id(n)) for n in (1, 2, 3))


def test_a_connector_for_users_alone_reads_and_declares_no_group(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    connector = make_connector(object_types=["user"])
    assert connector.capabilities.object_types == ("user",)
    pages = list(connector.full_import())
    assert not [r for r in graph.requests if "/groups" in r.url.path]
    watermark = pages[-1].watermark
    assert watermark is not None
    assert watermark.startswith("https://graph.test/v1.0/users/delta")  # users' link alone
    list(connector.delta_import(watermark))
    assert not [r for r in graph.requests if "/groups" in r.url.path]


def test_a_connector_without_users_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match='"user" is required'):
        config(object_types=["group"])


def _later_round(
    make_connector: ConnectorFactory, pages: list[list[dict[str, Any]]]
) -> tuple[list[ImportedObject], list[str]]:
    """A delta import whose groups' round gives ``pages``: the objects read, and every
    request other than the users' and the groups' delta rounds."""
    other: list[str] = []
    users_link = f"{BASE}/users/delta?$deltatoken=1"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/users/delta"):
            return httpx.Response(200, json={"value": [], "@odata.deltaLink": users_link})
        if request.url.path.endswith("/groups/delta"):
            number = int(request.url.params.get("$skiptoken", "0"))
            body: dict[str, Any] = {"value": pages[number]}
            if number + 1 < len(pages):
                body["@odata.nextLink"] = f"{BASE}/groups/delta?$skiptoken={number + 1}"
            else:
                body["@odata.deltaLink"] = f"{BASE}/groups/delta?$deltatoken=9"
            return httpx.Response(200, json=body)
        other.append(f"{request.method} {request.url}")
        return httpx.Response(500)

    watermark = Watermark(users_link, f"{BASE}/groups/delta?$deltatoken=5").text()
    connector = make_connector(handler)
    return [o for page in connector.delta_import(watermark) for o in page.objects], other


def _member(n: int, *, removed: bool = False) -> dict[str, Any]:
    entry: dict[str, Any] = {"@odata.type": "#microsoft.graph.user", "id": _id(n)}
    return entry | ({"@removed": {"reason": "deleted"}} if removed else {})


def test_a_later_round_gives_member_changes_and_reads_no_member_list(
    make_connector: ConnectorFactory,
) -> None:
    changed = {"id": GROUP_ID, "members@delta": [_member(1), _member(2, removed=True)]}
    renamed = {"id": _id(99), "displayName": "Renamed"}
    objects, other = _later_round(make_connector, [[changed, renamed]])
    assert other == []  # no GET /groups/{id}/members
    group, plain = objects
    assert group.kind is ImportKind.UPDATE
    assert "members" not in group.attributes
    assert group.value_changes == {
        "members": ValueChanges(added=(Reference(_id(1)),), removed=(Reference(_id(2)),))
    }
    assert plain.attributes == {"displayName": ("Renamed",)}
    assert plain.value_changes == {}  # members untouched


def test_a_group_spread_over_items_of_a_later_round_is_one_change(
    make_connector: ConnectorFactory,
) -> None:
    """Each item applied alone would be merged with the stored group, not the one before."""
    first = {"id": GROUP_ID, "members@delta": [_member(1), _member(2, removed=True)]}
    second = {"id": GROUP_ID, "displayName": "P", "members@delta": [_member(2), _member(3)]}
    third = {"id": GROUP_ID, "members@delta": [_member(1, removed=True)]}
    objects, _ = _later_round(make_connector, [[first, second, third]])
    assert len(objects) == 1
    assert objects[0].attributes == {"displayName": ("P",)}
    changes = objects[0].value_changes["members"]
    assert set(changes.added) == {Reference(_id(2)), Reference(_id(3))}
    assert set(changes.removed) == {Reference(_id(1))}


def test_a_group_removed_in_a_later_round_is_a_delete(make_connector: ConnectorFactory) -> None:
    gone = {"id": GROUP_ID, "@removed": {"reason": "deleted"}}
    objects, _ = _later_round(make_connector, [[gone]])
    assert [(o.anchor, o.kind) for o in objects] == [(GROUP_ID, ImportKind.DELETE)]
