"""Which users have their password hash synced, and where to: decided from data.

A user's hash is synced when its AD object (in the source connector space):

- is linked to a metaverse object (connector filtering by OU or attribute let it in),
- is in scope of an inbound rule of that connector with the password-sync flag (the
  built-in "In from AD - User AccountEnabled" rule: enabled accounts),
- is not ``cloudFiltered`` in the metaverse, and
- has a user in the cloud: a linked object in the target connector space with an anchor
  (the cloud's user id), which is what the upload addresses.

A user whose cloud object is not exported yet is not a target; it becomes one after the
export, and the next PHS run syncs it as "newly in scope".

The ports the PHS runner drives beside ``PasswordChangeFeed`` and ``NTHashSource`` are
declared here too: :class:`PasswordHashTarget` (the upload) and
:class:`PasswordSyncStateStore` (the runner's state).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from hybridsync.core.objects import CSObject, MVObject, PendingImport
from hybridsync.core.password_hash_sync.changes import PasswordSyncState
from hybridsync.core.ports import ExportKind
from hybridsync.core.rules import RuleSet
from hybridsync.core.scope import MemberOf, in_scope

__all__ = [
    "CLOUD_FILTERED",
    "HashUpload",
    "PasswordHashTarget",
    "PasswordSyncStateStore",
    "UploadResult",
    "password_sync_targets",
]

CLOUD_FILTERED = "cloudFiltered"


def _is_filtered(mv: MVObject | None) -> bool:
    if mv is None:
        return True
    values = mv.attributes.get(CLOUD_FILTERED, ())
    return any(str(value).lower() == "true" for value in values)


def _cloud_id(linked: Sequence[CSObject], target: str) -> str | None:
    for cs in linked:
        if cs.connector != target or cs.anchor is None:
            continue
        pending = cs.pending_export
        if pending is not None and pending.kind is ExportKind.DELETE:
            return None  # on its way out of the cloud
        return cs.anchor
    return None


def password_sync_targets(
    rules: RuleSet,
    source: str,
    target: str,
    source_objects: Iterable[CSObject],
    metaverse: Mapping[str, MVObject],
    linked: Mapping[str, Sequence[CSObject]],
    member_of: Callable[[CSObject], MemberOf] | None = None,
) -> dict[str, str]:
    """AD anchor -> cloud user id, for every user whose password hash is to be synced.

    Args:
        rules: the rule set; the source connector's inbound rules with ``password_sync``
            decide the scope.
        source: the AD connector's name; target: the cloud connector's name.
        source_objects: the source connector space (other object types are ignored).
        metaverse: MV objects by id (those the source objects link to).
        linked: MV id -> the CS objects linked to it (all connectors).
        member_of: answers ISMEMBEROF clauses for an object (absent: never a member).
    """
    flagged = [rule for rule in rules.inbound(source) if rule.password_sync]
    targets: dict[str, str] = {}
    for cs in source_objects:
        if cs.anchor is None or cs.mv_id is None or cs.pending_import is PendingImport.DELETE:
            continue
        membership = member_of(cs) if member_of is not None else None
        if not any(
            rule.applies_to(cs.object_type) and in_scope(rule.scope, cs.attributes, membership)
            for rule in flagged
        ):
            continue
        if _is_filtered(metaverse.get(cs.mv_id)):
            continue
        cloud_id = _cloud_id(linked.get(cs.mv_id, ()), target)
        if cloud_id is not None:
            targets[cs.anchor] = cloud_id
    return targets


@dataclass(frozen=True, slots=True)
class HashUpload:
    """One derived hash to store in the cloud: never an NT hash, never a password.

    Attributes:
        anchor: the AD anchor (for the runner's state and messages).
        cloud_id: the cloud user the hash belongs to.
        wire: ``v1;PPH1_MD4,<salt>,<iterations>,<hash>;`` (hidden from ``repr``).
    """

    anchor: str
    cloud_id: str
    wire: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class UploadResult:
    """The cloud's answer for one upload: ``error`` is empty when it was stored."""

    anchor: str
    error: str = ""

    @property
    def stored(self) -> bool:
        return not self.error


@runtime_checkable
class PasswordHashTarget(Protocol):
    """Stores derived hashes in the cloud directory: implemented by the Graph connector."""

    def upload_password_hashes(self, uploads: Sequence[HashUpload]) -> Iterator[UploadResult]:
        """One result per upload, in order; a refused user is an error result.

        Raises:
            FatalConnectorError: nothing can be uploaded (unreachable, refused token,
                a target without password hash support).
        """
        ...


@runtime_checkable
class PasswordSyncStateStore(Protocol):
    """Where the PHS runner keeps its state between runs (anchors and times, no secret)."""

    def load_password_sync_state(self, connector: str) -> PasswordSyncState: ...

    def save_password_sync_state(self, connector: str, state: PasswordSyncState) -> None: ...
