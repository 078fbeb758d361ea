"""Export through $batch against the fake Graph: creates, patches, deletes, failures."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from structlog.testing import capture_logs
from tests.unit.connectors.graph.conftest import ConnectorFactory
from tests.unit.connectors.graph.fake_graph import FakeGraph, error
from tests.unit.connectors.graph.support import FakeTokens, Sleeps, add, delete, update

from hybridsync.connectors.graph import ExportProgress
from hybridsync.core.ports import ExportOutcome, ExportResult
from hybridsync.errors import FatalConnectorError, UnreachableError


def by_id(results: list[ExportResult]) -> dict[str, ExportResult]:
    out = {r.change_id: r for r in results}
    assert len(out) == len(results), "one result per change"
    return out


def test_creates_go_out_in_batches_of_twenty_and_return_the_cloud_ids(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    changes = [add(f"c{i}", f"anchor{i}", f"user{i}@contoso.com") for i in range(45)]
    results = by_id(list(make_connector().export(changes)))
    assert [len(b) for b in graph.batches] == [20, 20, 5]
    assert {r.outcome for r in results.values()} == {ExportOutcome.APPLIED}
    created = {u["onPremisesImmutableId"]: u["id"] for u in graph.users.values()}
    assert results["c7"].anchor == created["anchor7"]
    assert len(graph.users) == 45


def test_a_create_carries_the_mapped_properties_and_the_sync_marker(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    list(
        make_connector().export(
            [add("c1", "QUJD", "Ann.Lee@partners.contoso.com", userType="guest")]
        )
    )
    (user,) = graph.users.values()
    assert user["userType"] == "Guest"
    assert user["mailNickname"] == "Ann.Lee"
    assert user["onPremisesImmutableId"] == "QUJD"
    assert user["onPremisesSyncEnabled"] is True
    assert "passwordProfile" not in user, "the project's directory needs no invented password"


def test_an_applied_create_reports_what_the_directory_holds_beyond_the_change(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    (result,) = make_connector().export([add("c1", "QUJD", "ann@contoso.com")])
    # Filled in by the connector or the directory, so the confirming import expects them.
    assert result.written["onPremisesSyncEnabled"] == (True,)
    assert result.written["mailNickname"] == ("ann",)
    sent = {"onPremisesImmutableId", "userPrincipalName", "displayName", "accountEnabled"}
    assert not sent & set(result.written), "the change's own values are not repeated"


def test_against_entra_a_create_gets_a_random_password_that_never_shows_in_results(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    connector = make_connector(target="entra")
    results = list(
        connector.export(
            [add("c1", "QUJD", "ann@contoso.com"), add("c2", "REVG", "bob@contoso.com")]
        )
    )
    passwords = [u["passwordProfile"]["password"] for u in graph.users.values()]
    assert len(set(passwords)) == 2
    assert all(len(p) >= 16 for p in passwords)
    assert "onPremisesSyncEnabled" not in next(iter(graph.users.values()))
    assert not any(p in repr(results) for p in passwords)


def test_updates_send_only_the_changed_attributes(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    uid = graph.add_user(userPrincipalName="a@contoso.com", displayName="A", department="Sales")
    results = list(make_connector().export([update("c1", uid, department="Legal", jobTitle=None)]))
    assert results == [ExportResult("c1", ExportOutcome.APPLIED, uid)]
    assert graph.writes == [("PATCH", f"/users/{uid}", {"department": "Legal", "jobTitle": None})]


def test_deletes_are_applied_and_an_already_deleted_user_counts_as_deleted(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    uid = graph.add_user(userPrincipalName="a@contoso.com", displayName="A")
    results = by_id(list(make_connector().export([delete("c1", uid), delete("c2", "gone")])))
    assert results["c1"].outcome is ExportOutcome.APPLIED
    assert results["c2"].outcome is ExportOutcome.APPLIED
    assert graph.users == {}


def test_deletes_and_renames_go_before_creates_that_reuse_the_upn(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    old = graph.add_user(
        userPrincipalName="ann@contoso.com", displayName="Ann", onPremisesImmutableId="OLD"
    )
    other = graph.add_user(
        userPrincipalName="bob@contoso.com", displayName="Bob", onPremisesImmutableId="BOB"
    )
    changes = [
        add("c1", "NEW", "ann@contoso.com"),
        add("c2", "NEW2", "bob@contoso.com"),
        delete("c3", old),
        update("c4", other, userPrincipalName="robert@contoso.com"),
    ]
    results = by_id(list(make_connector().export(changes)))
    assert {r.outcome for r in results.values()} == {ExportOutcome.APPLIED}
    assert sorted(u["userPrincipalName"] for u in graph.users.values()) == [
        "ann@contoso.com",
        "bob@contoso.com",
        "robert@contoso.com",
    ]


def test_a_rejected_object_names_the_attribute_and_the_others_are_written(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    graph.add_user(userPrincipalName="taken@contoso.com", displayName="T")
    results = by_id(
        list(
            make_connector().export(
                [add("c1", "A1", "taken@contoso.com"), add("c2", "A2", "free@contoso.com")]
            )
        )
    )
    assert results["c1"].outcome is ExportOutcome.REJECTED
    assert results["c1"].message.startswith("userPrincipalName: Another object")
    assert results["c2"].outcome is ExportOutcome.APPLIED


def test_invalid_values_are_refused_before_sending_with_the_attribute_named(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    results = by_id(
        list(
            make_connector().export(
                [
                    add("c1", "A1", "a@contoso.com", userType="Partner"),
                    add("c2", "A2", "b@contoso.com"),
                ]
            )
        )
    )
    assert results["c1"].outcome is ExportOutcome.REJECTED
    assert "userType" in results["c1"].message
    assert "'Partner'" in results["c1"].message
    assert [u["userPrincipalName"] for u in graph.users.values()] == ["b@contoso.com"]


@pytest.mark.parametrize(
    ("match_before_create", "writes"), [(True, ["PATCH"]), (False, ["POST", "PATCH"])]
)
def test_hard_match_patches_the_existing_user_instead_of_creating_one(
    graph: FakeGraph,
    make_connector: ConnectorFactory,
    match_before_create: bool,
    writes: list[str],
) -> None:
    uid = graph.add_user(
        userPrincipalName="old@contoso.com", displayName="Old", onPremisesImmutableId="QUJD"
    )
    connector = make_connector(match_before_create=match_before_create)
    results = list(connector.export([add("c1", "QUJD", "ann@contoso.com")]))
    assert results == [ExportResult("c1", ExportOutcome.APPLIED, uid)]
    assert len(graph.users) == 1
    assert graph.users[uid]["userPrincipalName"] == "ann@contoso.com"
    assert [w[0] for w in graph.writes] == writes


def test_a_duplicate_upn_without_a_match_keeps_the_directorys_refusal(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    graph.add_user(
        userPrincipalName="ann@contoso.com", displayName="Ann", onPremisesImmutableId="X"
    )
    progress: list[ExportProgress] = []
    (result,) = make_connector(progress=progress.append).export(
        [add("c1", "QUJD", "ann@contoso.com")]
    )
    assert result.outcome is ExportOutcome.REJECTED
    assert "ObjectConflict" not in result.message
    assert result.message.startswith("userPrincipalName: Another object")
    assert progress[-1].done == 1


def test_soft_match_on_upn_is_off_by_default(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    graph.add_user(userPrincipalName="ann@contoso.com", displayName="Ann")
    (result,) = make_connector().export([add("c1", "QUJD", "ann@contoso.com")])
    assert result.outcome is ExportOutcome.REJECTED
    assert result.message.startswith("userPrincipalName:")


def test_soft_match_when_enabled_takes_the_user_over_and_stamps_the_anchor(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    uid = graph.add_user(userPrincipalName="ann@contoso.com", displayName="Ann")
    taken = graph.add_user(
        userPrincipalName="bob@contoso.com", displayName="Bob", onPremisesImmutableId="X"
    )
    results = by_id(
        list(
            make_connector(soft_match_upn=True).export(
                [add("c1", "QUJD", "ann@contoso.com"), add("c2", "OTHER", "bob@contoso.com")]
            )
        )
    )
    assert results["c1"] == ExportResult("c1", ExportOutcome.APPLIED, uid)
    assert graph.users[uid]["onPremisesImmutableId"] == "QUJD"
    assert results["c2"].outcome is ExportOutcome.REJECTED
    assert taken in results["c2"].message
    assert graph.users[taken]["onPremisesImmutableId"] == "X"


def test_an_add_without_source_anchor_is_refused(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    (result,) = make_connector().export([add("c1", None, "a@contoso.com")])  # type: ignore[arg-type]
    assert result.outcome is ExportOutcome.REJECTED
    assert result.message.startswith("onPremisesImmutableId:")
    assert graph.users == {}


def throttle_first(graph: FakeGraph, times: int, status: int = 429, seconds: str = "7"):
    remaining = {"n": times}

    def fault(method: str, url: str, body: object):
        if (
            method in ("POST", "PATCH", "DELETE")
            and not url.endswith("$batch")
            and remaining["n"] > 0
        ):
            remaining["n"] -= 1
            return (
                status,
                {"Retry-After": seconds},
                error(status, "TooManyRequests", "Please retry again later."),
            )
        return None

    graph.faults.append(fault)


def test_throttled_items_are_resent_after_retry_after(
    graph: FakeGraph, make_connector: ConnectorFactory, sleeps: Sleeps
) -> None:
    throttle_first(graph, 3)
    changes = [add(f"c{i}", f"A{i}", f"u{i}@contoso.com") for i in range(5)]
    progress: list[ExportProgress] = []
    results = by_id(list(make_connector(progress=progress.append).export(changes)))
    assert {r.outcome for r in results.values()} == {ExportOutcome.APPLIED}
    assert len(graph.users) == 5
    assert [len(b) for b in graph.batches] == [5, 3]
    assert len(sleeps.delays) == 1
    assert 7 <= sleeps.delays[0] <= 7.7
    assert progress[-1].done == 5
    assert progress[-1].throttled == 3


def test_503_is_retried_and_retries_are_bounded(
    graph: FakeGraph, make_connector: ConnectorFactory, sleeps: Sleeps
) -> None:
    throttle_first(graph, 100, status=503, seconds="2")
    (result,) = make_connector(max_retries=3).export([add("c1", "A1", "u@contoso.com")])
    assert result.outcome is ExportOutcome.REJECTED
    assert "after 3 retries" in result.message
    assert len(graph.batches) == 4
    assert len(sleeps.delays) == 3
    assert graph.users == {}


def test_a_throttled_batch_as_a_whole_is_resent(
    graph: FakeGraph, make_connector: ConnectorFactory, sleeps: Sleeps
) -> None:
    calls = {"n": 0}

    def fault(method: str, url: str, body: object):
        if url.endswith("/$batch") and calls["n"] == 0:
            calls["n"] += 1
            return (
                429,
                {"Retry-After": "3"},
                error(429, "TooManyRequests", "Please retry again later."),
            )
        return None

    graph.faults.append(fault)
    (result,) = make_connector().export([add("c1", "A1", "u@contoso.com")])
    assert result.outcome is ExportOutcome.APPLIED
    assert 3 <= sleeps.delays[0] <= 3.3


def test_a_timeout_after_sending_makes_creates_unknown_and_resends_patches(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    uid = graph.add_user(userPrincipalName="a@contoso.com", displayName="A")
    state = {"lost": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        response = graph(request)  # the service does the work...
        if request.url.path.endswith("/$batch") and state["lost"] < 2:
            state["lost"] += 1
            raise httpx.ReadTimeout("timed out", request=request)  # ...and the answer is lost
        return response

    connector = make_connector(handler)
    (created,) = connector.export([add("c1", "QUJD", "new@contoso.com")])
    assert created.outcome is ExportOutcome.UNKNOWN
    (patched,) = connector.export([update("c2", uid, department="Legal")])
    assert patched == ExportResult("c2", ExportOutcome.APPLIED, uid)
    # The engine reads the unknown create back: found by immutable id, never created twice.
    found = connector.read_back(add("c1", "QUJD", "new@contoso.com"))
    assert found is not None
    assert found.attributes["onPremisesImmutableId"] == ("QUJD",)
    (again,) = connector.export([add("c1", "QUJD", "new@contoso.com")])
    assert again.outcome is ExportOutcome.APPLIED
    assert again.anchor == found.anchor
    assert len(graph.users) == 2


def test_read_back_of_an_unknown_create_that_never_happened_is_none(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    connector = make_connector()
    assert connector.read_back(add("c1", "QUJD", "new@contoso.com")) is None
    assert connector.read_back(update("c2", "missing", department="x")) is None


def test_a_server_error_on_a_create_item_is_unknown_not_retried(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    graph.faults.append(
        lambda m, u, b: (
            (500, {}, error(500, "InternalServerError", "boom"))
            if m == "POST" and u == "/users"
            else None
        )
    )
    (result,) = make_connector().export([add("c1", "A1", "u@contoso.com")])
    assert result.outcome is ExportOutcome.UNKNOWN
    assert len(graph.batches) == 1


def test_batch_partial_failures_each_get_their_own_result(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    uid = graph.add_user(userPrincipalName="a@contoso.com", displayName="A")
    graph.faults.append(
        lambda m, u, b: (
            (
                400,
                {},
                error(
                    400,
                    "Request_BadRequest",
                    "Invalid value specified for property 'mailNickname' of resource 'User'.",
                ),
            )
            if m == "PATCH" and b and "mailNickname" in b
            else None
        )
    )
    changes = [
        update("c1", uid, mailNickname="ok"),
        update("c2", uid, department="Legal"),
        update("c3", "missing", department="Legal"),
        add("c4", "A4", "d@contoso.com"),
    ]
    results = by_id(list(make_connector().export(changes)))
    assert results["c1"].outcome is ExportOutcome.REJECTED
    assert results["c1"].message.startswith("mailNickname: Invalid value")
    assert results["c2"].outcome is ExportOutcome.APPLIED
    assert results["c3"].outcome is ExportOutcome.REJECTED
    assert "no longer exists" in results["c3"].message
    assert results["c4"].outcome is ExportOutcome.APPLIED


def test_a_refused_token_is_refreshed_once_and_the_batch_resent(
    graph: FakeGraph, make_connector: ConnectorFactory, tokens: FakeTokens
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer token-1":
            return httpx.Response(
                401,
                json=error(
                    401,
                    "InvalidAuthenticationToken",
                    "Access token has expired or is not yet valid.",
                ),
            )
        return graph(request)

    (result,) = make_connector(handler).export([add("c1", "A1", "u@contoso.com")])
    assert result.outcome is ExportOutcome.APPLIED
    assert tokens.refreshes == 1


def test_a_token_refused_twice_stops_the_run(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, json=error(401, "InvalidAuthenticationToken", "Access token is empty.")
        )

    with pytest.raises(FatalConnectorError, match="Access token is empty"):
        list(make_connector(handler).export([add("c1", "A1", "u@contoso.com")]))


def test_a_service_that_never_answered_is_unreachable_at_once(
    make_connector: ConnectorFactory, sleeps: Sleeps
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(
        UnreachableError, match=r"cannot connect to graph\.test: connection refused"
    ):
        list(make_connector(handler, max_retries=2).export([add("c1", "A1", "u@contoso.com")]))
    assert sleeps.delays == []


def _lost_after_first_answer(graph: FakeGraph) -> Callable[[httpx.Request], httpx.Response]:
    answered: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if answered:
            raise httpx.ConnectError("connection refused", request=request)
        answered.append(request)
        return graph(request)

    return handler


def test_a_service_lost_later_is_retried_with_a_line_per_wait(
    graph: FakeGraph, make_connector: ConnectorFactory, sleeps: Sleeps
) -> None:
    connector = make_connector(
        _lost_after_first_answer(graph), max_retries=2, batch_size=1, concurrency=1
    )
    changes = [add("c1", "A1", "u1@contoso.com"), add("c2", "A2", "u2@contoso.com")]
    with capture_logs() as logs, pytest.raises(FatalConnectorError) as raised:
        list(connector.export(changes))
    assert not isinstance(raised.value, UnreachableError)
    assert "gave up after 2 retries" in str(raised.value)
    assert len(sleeps.delays) == 2
    lines = [entry["event"] for entry in logs if entry["log_level"] == "warning"]
    assert len(lines) == 2
    assert lines[0].startswith("cloud: POST /v1.0/$batch: cannot connect to graph.test")
    assert "retry 1 of 2, next try in 1." in lines[0]
    assert "retry 2 of 2, next try in 2." in lines[1]


def test_retries_stop_at_the_time_limit(
    graph: FakeGraph, make_connector: ConnectorFactory, sleeps: Sleeps
) -> None:
    connector = make_connector(
        _lost_after_first_answer(graph),
        max_retries=8,
        retry_time_limit=5,
        batch_size=1,
        concurrency=1,
    )
    changes = [add("c1", "A1", "u1@contoso.com"), add("c2", "A2", "u2@contoso.com")]
    with pytest.raises(FatalConnectorError, match="gave up after 2 retries in 3 s"):
        list(connector.export(changes))
    assert sum(sleeps.delays) <= 5  # a third wait (4 s more) would have passed 5 s


def test_write_quota_paces_batches_and_progress_reports_an_eta(
    graph: FakeGraph, make_connector: ConnectorFactory, sleeps: Sleeps
) -> None:
    progress: list[ExportProgress] = []
    connector = make_connector(
        progress=progress.append, concurrency=1, write_quotas=[{"requests": 20, "per_seconds": 10}]
    )
    changes = [add(f"c{i}", f"A{i}", f"u{i}@contoso.com") for i in range(50)]
    results = list(connector.export(changes))
    assert len(results) == 50
    assert len(graph.users) == 50
    # 50 writes at 20 per 10 s: the second and third batches each waited for the window.
    assert len(sleeps.delays) == 2
    assert progress[-1].done == 50
    assert progress[-1].eta_seconds == 0.0
    assert any(p.eta_seconds and p.eta_seconds >= 10 for p in progress[:20])


def test_a_concurrency_violation_is_retried_but_another_conflict_is_final(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    uid = graph.add_user(userPrincipalName="a@contoso.com", displayName="A")
    seen = {"n": 0}

    def fault(method: str, url: str, body: object):
        if method != "PATCH":
            return None
        seen["n"] += 1
        if body == {"department": "Legal"} and seen["n"] == 1:
            return 409, {}, error(409, "Directory_ConcurrencyViolation", "Try again.")
        if body == {"jobTitle": "Boss"}:
            return 409, {}, error(409, "Request_Conflict", "Conflicting object.")
        return None

    graph.faults.append(fault)
    changes = [update("c1", uid, department="Legal"), update("c2", uid, jobTitle="Boss")]
    results = by_id(list(make_connector().export(changes)))
    assert results["c1"].outcome is ExportOutcome.APPLIED
    assert results["c2"].outcome is ExportOutcome.REJECTED
    assert graph.users[uid]["department"] == "Legal"


def test_an_update_with_nothing_to_write_sends_no_request(
    graph: FakeGraph, make_connector: ConnectorFactory
) -> None:
    uid = graph.add_user(userPrincipalName="a@contoso.com", displayName="A")
    changes = [
        update("c1", uid),
        update("c2", uid, onPremisesSamAccountName="a", cloudFiltered=False),
    ]
    results = by_id(list(make_connector(target="entra").export(changes)))
    assert results["c1"] == ExportResult("c1", ExportOutcome.APPLIED, uid)
    assert results["c2"] == ExportResult("c2", ExportOutcome.APPLIED, uid)
    assert graph.batches == []
