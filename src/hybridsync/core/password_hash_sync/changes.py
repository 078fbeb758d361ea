"""Which users need a password hash sync, decided from data; and the two ports PHS uses.

Password hash synchronization runs on its own schedule (every 2 minutes by default),
apart from the object cycle. Each run:

1. reads the users whose ``pwdLastSet`` changed since the last run from a
   :class:`PasswordChangeFeed` (the AD connector, by DirSync or a ``uSNChanged`` search;
   every user on the first run),
2. asks :func:`plan_password_sync` which of them to sync, given what was synced before
   and which anchors are in scope (users in scope of a rule with the password-sync flag,
   not filtered: the engine knows),
3. reads their NT hashes from an :class:`NTHashSource` (the DRSR connector), derives and
   uploads, and
4. stores :func:`record_outcome`'s new state, watermark included, in one step.

A crash before step 4 leaves the old state, so the next run reads the same changes again;
syncing a hash twice is harmless. A user whose upload failed stays pending and is retried
by the next run even though the feed will not report it again.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from hybridsync.core.password_hash_sync.hashes import NTHash
from hybridsync.core.ports import ImportedObject, ImportKind, ImportPage

__all__ = [
    "PWD_LAST_SET",
    "NTHashRead",
    "NTHashSource",
    "PasswordChange",
    "PasswordChangeFeed",
    "PasswordSyncPlan",
    "PasswordSyncState",
    "plan_password_sync",
    "record_outcome",
]

PWD_LAST_SET = "pwdLastSet"
USER = "user"


@dataclass(frozen=True, slots=True)
class PasswordChange:
    """A user whose hash is to be synced.

    Attributes:
        anchor: the AD anchor (objectGUID), which the hash reader accepts.
        dn: the DN when the change was seen, for messages.
        pwd_last_set: the ``pwdLastSet`` FILETIME seen; ``None`` for a user that came
            into scope without a password change in this batch.
    """

    anchor: str
    dn: str = ""
    pwd_last_set: int | None = None


@dataclass(frozen=True, slots=True)
class PasswordSyncState:
    """What password hash sync remembers between runs (stored by the engine).

    Attributes:
        synced: anchor -> the ``pwdLastSet`` whose hash the cloud has (``None``: synced,
            value not known).
        pending: anchor -> a change not yet synced (its last attempt failed).
        watermark: the feed's watermark after the last stored run; ``None`` before the
            first run, which then reads every user.
    """

    synced: Mapping[str, int | None] = field(default_factory=dict)
    pending: Mapping[str, PasswordChange] = field(default_factory=dict)
    watermark: str | None = None


@dataclass(frozen=True, slots=True)
class PasswordSyncPlan:
    """What one run does.

    Attributes:
        to_sync: the users to read and upload, oldest password change first.
        forget: anchors to drop from the state (deleted, or no longer in scope).
        skipped: (anchor, reason) for records that are not a user or whose
            ``pwdLastSet`` cannot be read; nothing is lost, they are reported.
        unchanged: how many in-scope records carried no new password.
        watermark: the watermark to store once the run's outcome is recorded.
    """

    to_sync: tuple[PasswordChange, ...]
    forget: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    unchanged: int = 0
    watermark: str | None = None


def _pwd_last_set(record: ImportedObject) -> int | None:
    """The record's pwdLastSet, ``None`` when the record does not carry it.

    Raises:
        ValueError: the attribute is present but not one integer.
    """
    values = record.attributes.get(PWD_LAST_SET)
    if values is None:
        return None
    if len(values) != 1:
        raise ValueError(f"{PWD_LAST_SET} has {len(values)} values, expected one")
    value = values[0]
    if isinstance(value, bool):
        raise ValueError(f"{PWD_LAST_SET} is a boolean")
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{PWD_LAST_SET} is not an integer: {value!r}") from None


def _latest_records(pages: Iterable[ImportPage]) -> tuple[dict[str, ImportedObject], str | None]:
    """The last record per anchor, and the last non-empty watermark."""
    latest: dict[str, ImportedObject] = {}
    watermark: str | None = None
    for page in pages:
        for record in page.objects:
            latest.pop(record.anchor, None)  # keep arrival order of the newest record
            latest[record.anchor] = record
        if page.watermark is not None:
            watermark = page.watermark
    return latest, watermark


@dataclass(slots=True)
class _Planner:
    state: PasswordSyncState
    in_scope: Collection[str]
    to_sync: dict[str, PasswordChange] = field(default_factory=dict)
    forget: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0

    def known(self, anchor: str) -> bool:
        return anchor in self.state.synced or anchor in self.state.pending

    def drop(self, anchor: str) -> None:
        self.to_sync.pop(anchor, None)
        if self.known(anchor):
            self.forget.append(anchor)

    def consider(self, record: ImportedObject) -> None:
        anchor = record.anchor
        if record.kind is ImportKind.DELETE or anchor not in self.in_scope:
            self.drop(anchor)
            return
        if record.object_type != USER:
            self.skipped.append((anchor, f"{record.dn}: only user objects have their hash synced"))
            return
        try:
            seen = _pwd_last_set(record)
        except ValueError as exc:
            self.skipped.append((anchor, f"{record.dn}: {exc}"))
            return
        never_synced = anchor not in self.state.synced
        if never_synced or (seen is not None and seen != self.state.synced[anchor]):
            self.to_sync[anchor] = PasswordChange(anchor, record.dn, seen)
        else:
            self.unchanged += 1

    def add_pending(self) -> None:
        for anchor, change in self.state.pending.items():
            if anchor in self.in_scope and anchor not in self.forget:
                self.to_sync.setdefault(anchor, change)

    def add_newly_in_scope(self, seen: Container[str]) -> None:
        # A user can come into scope (enabled, moved into a synced OU) without a password
        # change, so the feed does not report it: it still needs its first sync.
        for anchor in self.in_scope:
            if not self.known(anchor) and anchor not in seen:
                self.to_sync[anchor] = PasswordChange(anchor)


def _oldest_first(change: PasswordChange) -> tuple[int, int, str]:
    # Unknown times first: they are older than any change this batch reports.
    if change.pwd_last_set is None:
        return (0, 0, change.anchor)
    return (1, change.pwd_last_set, change.anchor)


def plan_password_sync(
    state: PasswordSyncState,
    pages: Iterable[ImportPage],
    in_scope: Collection[str],
) -> PasswordSyncPlan:
    """Decide which users to sync from a feed's pages.

    Args:
        state: what the previous runs stored.
        pages: the feed's pages since ``state.watermark`` (all users on a first run);
            records carry ``pwdLastSet`` when it changed (DirSync) or always (USN search).
        in_scope: anchors of users in scope of a password-sync rule and not filtered.

    A user in scope is synced when it was never synced (whether or not the feed reports
    it), or when its ``pwdLastSet`` differs from
    the value last synced; users left pending by a failed run are synced again. A user
    deleted or out of scope is forgotten, so it gets a fresh sync if it comes back.
    """
    records, watermark = _latest_records(pages)
    planner = _Planner(state, in_scope)
    for record in records.values():
        planner.consider(record)
    planner.add_pending()
    planner.add_newly_in_scope(records)
    return PasswordSyncPlan(
        to_sync=tuple(sorted(planner.to_sync.values(), key=_oldest_first)),
        forget=tuple(dict.fromkeys(planner.forget)),
        skipped=tuple(planner.skipped),
        unchanged=planner.unchanged,
        watermark=watermark if watermark is not None else state.watermark,
    )


def record_outcome(
    state: PasswordSyncState, plan: PasswordSyncPlan, succeeded: Collection[str]
) -> PasswordSyncState:
    """The state to store after a run: successes synced, failures pending, drops gone."""
    synced = {a: v for a, v in state.synced.items() if a not in plan.forget}
    pending = {a: c for a, c in state.pending.items() if a not in plan.forget}
    for change in plan.to_sync:
        if change.anchor in succeeded:
            synced[change.anchor] = change.pwd_last_set
            pending.pop(change.anchor, None)
        else:
            pending[change.anchor] = change
    return PasswordSyncState(synced=synced, pending=pending, watermark=plan.watermark)


@dataclass(frozen=True, slots=True)
class NTHashRead:
    """The outcome of reading one user's NT hash.

    Exactly one of ``nt_hash`` and ``error`` is set. ``error`` names the user and says
    what went wrong; it never contains a hash.
    """

    anchor: str
    nt_hash: NTHash | None = field(default=None, repr=False)
    error: str = ""

    def __post_init__(self) -> None:
        if (self.nt_hash is None) == (not self.error):
            raise ValueError(f"{self.anchor}: an NT hash read has either a hash or an error")


@runtime_checkable
class PasswordChangeFeed(Protocol):
    """Users whose password changed: implemented by the AD connector, LDAP-free here."""

    def password_changes(self, watermark: str | None) -> Iterator[ImportPage]:
        """Users whose ``pwdLastSet`` changed after ``watermark``; every user when ``None``.

        Each record is a ``user`` with its ``pwdLastSet`` (one integer, FILETIME) when it
        changed, its anchor (objectGUID as the connector spells it) and DN; a deleted
        user is a ``DELETE`` record. The last page's watermark starts the next run.

        Raises:
            FatalConnectorError: the directory cannot be read, or the watermark expired.
        """
        ...


@runtime_checkable
class NTHashSource(Protocol):
    """Reads NT hashes from a domain controller: implemented by the DRSR connector."""

    def read_nt_hashes(self, anchors: Sequence[str]) -> Iterator[NTHashRead]:
        """One result per anchor, in order; a user that cannot be read is an error result.

        Raises:
            FatalConnectorError: nothing can be read (DC unreachable, bad credentials,
                missing replication rights).
        """
        ...
