"""GraphConnector: Microsoft Graph users as a connected directory (import and export).

Anchor of a cloud user: its Graph ``id``. Watermark: the ``/users/delta`` deltaLink.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import httpx

from hybridsync.connectors.graph import groups, mapping
from hybridsync.connectors.graph.auth import BearerAuth, MsalTokenSource, TokenSource
from hybridsync.connectors.graph.budget import ExportProgress, ProgressMeter, WriteBudget
from hybridsync.connectors.graph.client import GraphClient, WaitRelay
from hybridsync.connectors.graph.config import GraphConfig
from hybridsync.connectors.graph.errors import parse_error
from hybridsync.connectors.graph.exporting import BatchSender, Matcher
from hybridsync.connectors.graph.guests import GuestImport
from hybridsync.connectors.graph.importing import (
    Watermark,
    deleted_guest,
    delta_item,
    group_delta_item,
    imported_group,
    imported_user,
    is_expired_delta,
    same_group_items_combined,
)
from hybridsync.connectors.graph.operations import (
    Operation,
    merged,
    odata_literal,
    plan_all,
    user_path,
)
from hybridsync.connectors.graph.session import http_client, retry_policy
from hybridsync.core.ports import (
    Capabilities,
    ExportChange,
    ExportKind,
    ExportOutcome,
    ExportResult,
    ImportedObject,
    ImportKind,
    ImportPage,
    WaitListener,
)
from hybridsync.errors import FatalConnectorError, ObjectRejectedError


def _sorted(members: frozenset[str] | None) -> tuple[str, ...] | None:
    return None if members is None else tuple(sorted(members))


PHASES = (ExportKind.DELETE, ExportKind.UPDATE, ExportKind.ADD)
"""Deletes first, then updates, then adds: a UPN freed by a delete or a rename is free
before a create needs it."""


class GraphConnector:
    """Imports cloud users and exports creates, minimal updates and deletes to them.

    Args:
        config: the connector's configuration.
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
        tokens: where bearer tokens come from (default: msal, client credentials).
        progress: called after every written batch with counts and an ETA.
        sleep: how to wait (tests pass a recorder so nothing really sleeps).
        clock: monotonic seconds (tests pass one that ``sleep`` advances).
    """

    def __init__(
        self,
        config: GraphConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        tokens: TokenSource | None = None,
        progress: Callable[[ExportProgress], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.config = config
        self._http = http_client(config, transport)
        self._tokens = tokens or MsalTokenSource(config, self._http)
        self._waits = WaitRelay()
        self._policy = retry_policy(config, sleep=sleep, clock=clock, waits=self._waits)
        self._client = GraphClient(
            self._http, config.base_url, BearerAuth(self._tokens), self._policy
        )
        self._target = mapping.Target(
            synced_markers=config.target == "hybridsync",
            password_on_create=config.sends_password_on_create,
            guests=config.cloud_guests is not None,
        )
        guests = config.cloud_guests
        self._guests = (
            None
            if guests is None
            else GuestImport(self._client, self._target, guests.group, config.page_size)
        )
        self._budget = WriteBudget(config.write_quotas, clock=clock, sleep=sleep)
        self._clock = clock
        self._progress = progress

    # -- Connector -------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            full_import=True,
            delta_import=True,
            export=True,
            # Enough changes per call to keep every batch worker busy.
            export_batch_size=self.config.batch_size * self.config.concurrency * 5,
            object_types=self.config.object_types,
            multi_valued=mapping.MULTI_VALUED | {groups.MEMBERS},
        )

    def parameters(self) -> Mapping[str, str]:
        return {"Cloud.BaseUrl": self.config.base_url, "Cloud.Target": self.config.target}

    def announce_waits(self, listener: WaitListener | None) -> None:
        self._waits.listener = listener

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphConnector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- import ----------------------------------------------------------------------

    def _select(self) -> str:
        return self._target.select()

    def _latest_delta_link(self) -> str:
        # manager selected: delta items carry manager@delta (set, changed or removed)
        select = f"{self._select()},{mapping.MANAGER}"
        query = urlencode({"$select": select, "$deltatoken": "latest"})
        page = self._client.get_json(f"/users/delta?{query}")
        link = page.get("@odata.deltaLink")
        if not isinstance(link, str):
            raise FatalConnectorError("GET /users/delta?$deltatoken=latest gave no deltaLink")
        return link

    def full_import(self) -> Iterator[ImportPage]:
        """:meth:`_full_pages`, with no empty page (see :func:`_merged_pages`)."""
        return _merged_pages(self._full_pages())

    def delta_import(self, watermark: str) -> Iterator[ImportPage]:
        """:meth:`_delta_pages`, with no empty page (see :func:`_merged_pages`)."""
        return _merged_pages(self._delta_pages(watermark))

    def _full_pages(self) -> Iterator[ImportPage]:
        """Every cloud user (``GET /users``), page by page, then every group with its
        members (the first round of ``/groups/delta``).

        The users' delta watermark is taken *before* the listing, so a change made while
        the listing runs is seen again by the next delta import rather than lost; the
        groups' is the deltaLink that ends their first round.
        """
        users_link = self._latest_delta_link()
        members = self._guests.members() if self._guests else None
        query = urlencode(
            {
                "$select": self._select(),
                "$expand": mapping.MANAGER_EXPAND,
                "$top": str(self.config.page_size),
            }
        )
        for page in self._client.pages(f"/users?{query}"):
            objects = [
                self._scoped(imported_user(user, self._target, ImportKind.PRESENT, managers=True),
                             members)
                for user in page.get("value", [])
            ]  # fmt: skip
            yield ImportPage(objects, None)
        if self._guests is not None:
            for deleted in self._guests.deleted_pages(members):
                yield ImportPage(deleted, None)
        groups_link = None
        if self._with_groups:
            start = self._groups_delta_start()
            groups_link = yield from self._group_pages(start, ImportKind.PRESENT)
        yield ImportPage([], Watermark(users_link, groups_link, _sorted(members)).text())

    def _scoped(self, found: ImportedObject, members: frozenset[str] | None) -> ImportedObject:
        return found if self._guests is None else self._guests.scoped(found, members)

    @property
    def _with_groups(self) -> bool:
        return groups.OBJECT_TYPE in self.config.object_types

    def _groups_delta_start(self) -> str:
        query = urlencode({"$select": f"{groups.select(self._target)},{groups.MEMBERS}"})
        return f"/groups/delta?{query}"

    def _group_pages(self, url: str, kind: ImportKind) -> Generator[ImportPage, None, str]:
        """The groups of a ``/groups/delta`` round, with no watermark (the caller ends
        the import with one); returns the round's deltaLink.

        The first round lists every group with all its members. A later round gives a
        changed membership as the changes (``members@delta``: added, and ``@removed``),
        which the engine applies to the members the connector space holds: no member
        list is read.
        """
        first_round = kind is not ImportKind.UPDATE
        # Graph may spread a large group's first-round members over several items of
        # the same group: each later item carries the members of the earlier ones too.
        first_members: dict[str, tuple[Any, ...]] = {}
        next_url: str | None = url
        link: str | None = None
        while next_url is not None:
            page = self._delta_page(next_url)
            objects = []
            for item in page.get("value", []):
                if not first_round:
                    objects.append(group_delta_item(item, self._target))
                    continue
                members = None
                if "@removed" not in item:
                    delta = item.get(f"{groups.MEMBERS}@delta")
                    seen = first_members.get(str(item["id"]), ())
                    found = groups.members_of(delta if isinstance(delta, list) else [])
                    members = tuple(dict.fromkeys((*seen, *found)))
                    first_members[str(item["id"])] = members
                objects.append(imported_group(item, self._target, kind, members))
            yield ImportPage(objects if first_round else same_group_items_combined(objects))
            next_url = page.get("@odata.nextLink")
            link = page.get("@odata.deltaLink")
        if not isinstance(link, str):
            raise FatalConnectorError("GET /groups/delta gave no deltaLink")
        return link

    def _delta_pages(self, watermark: str) -> Iterator[ImportPage]:
        """Changes since the ``watermark`` (the users' and the groups' deltaLinks):
        users, then groups. The users' pages carry the link to resume from; the
        groups' round ends with both new links."""
        links = Watermark.parse(watermark)
        for link in (links.users, links.groups):
            if link is not None and not self._client.owns(link):
                raise FatalConnectorError(
                    f"connector {self.name}: the delta watermark does not point at "
                    f"{self.config.base_url}; run a full import"
                )
        members = self._guests.members() if self._guests else None
        if self._guests is not None and members is not None:
            # Who joined or left the scoping group: read before the users' delta, so that
            # the member list the watermark keeps is saved with these changes.
            changed = self._guests.membership_changes(links.guest_members, members)
            yield ImportPage(changed, Watermark(links.users, links.groups,
                                                _sorted(members)).text())  # fmt: skip
        url: str | None = links.users
        users_link = links.users
        while url is not None:
            page = self._delta_page(url)
            users = self._completed(page.get("value", []))
            objects = [self._scoped(found, members) for found in self._delta_items(users)]
            url = page.get("@odata.nextLink")
            users_link = url or page.get("@odata.deltaLink") or users_link
            yield ImportPage(objects, Watermark(users_link, links.groups, _sorted(members)).text())
        if not self._with_groups:
            return
        # A watermark from before groups were imported starts their first round.
        if links.groups is None:
            start, kind = self._groups_delta_start(), ImportKind.REPLACE
        else:
            start, kind = links.groups, ImportKind.UPDATE
        groups_link = yield from self._group_pages(start, kind)
        yield ImportPage([], Watermark(users_link, groups_link, _sorted(members)).text())

    def _delta_items(self, users: list[dict[str, Any]]) -> list[ImportedObject]:
        """The delta's users; a cloud guest soft-deleted is kept, marked deleted."""
        kept = self._guests.soft_deleted(users) if self._guests is not None else {}
        return [
            deleted_guest(kept[str(user["id"])], self._target, ImportKind.REPLACE)
            if str(user["id"]) in kept
            else delta_item(user, self._target)
            for user in users
        ]

    def _completed(self, users: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Delta items with only some properties, read again in full.

        Graph promises "at least the changed properties"; a partial item would leave
        the connector space unsure of the rest (and without the immutable id, of the
        DN). A user gone by the time it is read again is reported removed.
        """
        partial = [
            str(u["id"])
            for u in users
            if "@removed" not in u and not mapping.is_complete(u, self._target)
        ]
        if not partial:
            return users
        matcher = Matcher(self._client, soft_match_upn=False)
        found = {str(u["id"]): u for u in matcher.find("id", partial, self._select())}
        gone = {"@removed": {"reason": "deleted"}}
        return [
            found.get(str(u["id"]), {"id": u["id"], **gone}) if str(u["id"]) in partial else u
            for u in users
        ]

    def _delta_page(self, url: str) -> dict[str, Any]:
        # Delta pages are small by default (100); larger ones mean fewer round trips.
        response = self._client.get(url, headers={"Prefer": "odata.maxpagesize=999"})
        body = response.json() if response.content else None
        if response.status_code == 200 and isinstance(body, dict):
            return body
        error = parse_error(response.status_code, body)
        if is_expired_delta(error):
            raise FatalConnectorError(
                f"connector {self.name}: the delta token has expired or is no longer "
                f"valid ({error.describe()}); run a full import"
            )
        hint = ""
        if error.status == 403 and "/groups/" in url:
            hint = (
                "; the application needs Group.ReadWrite.All and GroupMember.ReadWrite.All "
                'to sync groups (or set object_types = ["user"])'
            )
        raise FatalConnectorError(f"connector {self.name}: delta import: {error.describe()}{hint}")

    # -- export ----------------------------------------------------------------------

    def export(self, changes: Sequence[ExportChange]) -> Iterator[ExportResult]:
        """Write the changes in ``$batch`` requests; one result per change.

        Raises:
            FatalConnectorError: nothing more can be written (credentials, TLS, refused).
        """
        meter = ProgressMeter(len(changes), self._budget, self._progress, self._clock)
        sender = BatchSender(
            self._client, self._budget, self._policy, self._tokens, meter, self._target
        )
        matcher = Matcher(self._client, soft_match_upn=self.config.soft_match_upn)
        for kind in PHASES:
            chunks = _chunks([c for c in changes if c.kind is kind], self.config.batch_size)
            yield from self._run_phase(chunks, sender, matcher)

    def _run_phase(
        self, chunks: list[list[ExportChange]], sender: BatchSender, matcher: Matcher
    ) -> Iterator[ExportResult]:
        if not chunks:
            return
        with ThreadPoolExecutor(self.config.concurrency, "graph-export") as pool:
            futures: list[Future[list[ExportResult]]] = [
                pool.submit(self._export_chunk, chunk, sender, matcher) for chunk in chunks
            ]
            try:
                for future in as_completed(futures):
                    yield from future.result()
            finally:
                for future in futures:
                    future.cancel()

    def _export_chunk(
        self, chunk: list[ExportChange], sender: BatchSender, matcher: Matcher
    ) -> list[ExportResult]:
        adds = {c.change_id: c for c in chunk if c.kind is ExportKind.ADD}
        results: list[ExportResult] = []
        matched: dict[str, str] = {}
        if self.config.match_before_create:
            matched, rejected = matcher.match(list(adds.values()))
            results.extend(rejected)
        refused = {result.change_id for result in results}
        operations = self._plan([c for c in chunk if c.change_id not in refused], matched, results)
        operations = _without_empty_patches(operations, results)
        sender.meter.advance(len(results))
        conflicts: dict[str, ExportResult] | None = None if self.config.match_before_create else {}
        results += sender.send(operations, conflicts)
        if conflicts:
            results += self._match_conflicts(conflicts, adds, sender, matcher)
        return merged(results)

    def _match_conflicts(
        self,
        conflicts: dict[str, ExportResult],
        adds: dict[str, ExportChange],
        sender: BatchSender,
        matcher: Matcher,
    ) -> list[ExportResult]:
        """Creates the directory refused because the user exists: hard match (or soft
        match) it and write the change as an update of that user; without a match the
        directory's refusal is the result."""
        matched, results = matcher.match([adds[change_id] for change_id in conflicts])
        settled = set(matched) | {result.change_id for result in results}
        results += [result for cid, result in conflicts.items() if cid not in settled]
        operations = self._plan([adds[change_id] for change_id in matched], matched, results)
        sender.meter.advance(len(results))
        return results + sender.send(operations)

    def _plan(
        self,
        changes: list[ExportChange],
        matched: Mapping[str, str],
        refusals: list[ExportResult],
    ) -> list[Operation]:
        """The operations for the changes; changes that cannot be written are refused."""
        operations: list[Operation] = []
        for change in changes:
            try:
                operations += plan_all(change, self._target, matched, self.config.base_url)
            except ObjectRejectedError as exc:
                refusals.append(
                    ExportResult(change.change_id, ExportOutcome.REJECTED, message=str(exc))
                )
        return operations

    def read_back(self, change: ExportChange) -> ImportedObject | None:
        """The cloud user a change was about: by immutable id for an add (the add may
        have created it under an id we never learned), else by anchor."""
        if groups.is_group_change(change):
            return self._read_back_group(change)
        if change.kind is ExportKind.ADD:
            attributes = {c.name: c.values for c in change.changes}
            anchor = mapping.immutable_id(attributes)
            if anchor is None:
                return None
            user = Matcher(self._client, soft_match_upn=False).find_by_immutable_id(
                anchor, self._select()
            )
            return None if user is None else imported_user(user, self._target, ImportKind.PRESENT)
        if not change.anchor:
            return None
        query = urlencode({"$select": self._select()})
        response = self._client.get(f"{user_path(change.anchor)}?{query}")
        if response.status_code == 404:
            return None
        body = response.json() if response.content else None
        if response.status_code != 200 or not isinstance(body, dict):
            error = parse_error(response.status_code, body)
            raise FatalConnectorError(f"reading back {change.dn}: {error.describe()}")
        return imported_user(body, self._target, ImportKind.PRESENT)

    def _read_back_group(self, change: ExportChange) -> ImportedObject | None:
        """The cloud group a change was about: an add's by its on-premises security
        identifier (the one property of ours a group keeps; none on a target that does
        not take it), else by anchor."""
        select = groups.select(self._target)
        if change.kind is ExportKind.ADD:
            sid = next(
                (str(c.values[0]) for c in change.changes
                 if c.name.lower() == "onpremisessecurityidentifier" and c.values),
                None,
            )  # fmt: skip
            if sid is None or not self._target.synced_markers:
                return None
            query = urlencode(
                {"$filter": f"onPremisesSecurityIdentifier eq {odata_literal(sid)}",
                 "$select": select}
            )  # fmt: skip
            found = [g for page in self._client.pages(f"/groups?{query}") for g in page["value"]]
            return imported_group(found[0], self._target, ImportKind.PRESENT, ()) if found else None
        if not change.anchor:
            return None
        response = self._client.get(
            f"{groups.group_path(change.anchor)}?{urlencode({'$select': select})}"
        )
        if response.status_code == 404:
            return None
        body = response.json() if response.content else None
        if response.status_code != 200 or not isinstance(body, dict):
            error = parse_error(response.status_code, body)
            raise FatalConnectorError(f"reading back {change.dn}: {error.describe()}")
        return imported_group(body, self._target, ImportKind.PRESENT, None)


def _merged_pages(pages: Iterator[ImportPage]) -> Iterator[ImportPage]:
    """The pages with each empty one folded into the page before it (its watermark, if
    it has one, replaces that page's): the groups' round of a directory with no group
    changed adds no page, and the last page carries the final watermark."""
    held = next(pages, None)
    if held is None:
        return
    for page in pages:
        if not page.objects and not page.unreadable:
            held = replace(held, watermark=page.watermark or held.watermark)
            continue
        yield held
        held = page
    yield held


def _without_empty_patches(
    operations: list[Operation], results: list[ExportResult]
) -> list[Operation]:
    """An update with nothing to write (every attribute skipped for this target, or no
    attribute at all) is applied without a request."""
    kept = []
    for op in operations:
        if op.method == "PATCH" and not op.body:
            results.append(ExportResult(op.change.change_id, ExportOutcome.APPLIED, op.anchor))
        else:
            kept.append(op)
    return kept


def _chunks(items: list[ExportChange], size: int) -> list[list[ExportChange]]:
    """The changes in chunks of about ``size`` requests (a ``$batch`` each): a change to
    a group's members takes one request per member, so counting changes would send
    ``$batch`` requests half empty (100 member changes over 60 groups in 6, not 5).
    The changes taking most requests come first: the small ones then fill the gaps."""
    chunks: list[list[ExportChange]] = []
    current: list[ExportChange] = []
    weight = 0
    weighed = sorted(((_requests(change), change) for change in items), key=lambda w: -w[0])
    for requests, change in weighed:
        if current and weight + requests > size:
            chunks.append(current)
            current, weight = [], 0
        current.append(change)
        weight += requests
    if current:
        chunks.append(current)
    return chunks


def _requests(change: ExportChange) -> int:
    """About how many requests a change takes (a group's: one per member written)."""
    if not groups.is_group_change(change) or change.kind is not ExportKind.UPDATE:
        return 1
    added, removed = groups.member_changes(change)
    others = any(not groups.is_members(c.name) for c in change.changes)
    return max(1, len(added) + len(removed) + others)
