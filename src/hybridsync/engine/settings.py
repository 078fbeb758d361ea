"""The engine's safety and batching settings (built from config by wiring)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

REFERENCE_ENV = "HYBRIDSYNC_REFERENCE_EVAL"
"""Set to ``1`` to run the reference implementations of scope and attribute flow
instead of generated code (to confirm or rule out a code-generation bug)."""


def reference_from_env() -> bool:
    """Whether the environment asks for the reference implementations."""
    return os.environ.get(REFERENCE_ENV, "").strip() == "1"


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Attributes:
    deletion_threshold: an export staging more deletes than this stops before
        deleting anything (Entra Connect's default, 500); ``None`` disables the count.
    deletion_threshold_percent: the same as a share of the connector space's objects.
    deletion_window_seconds: deletes the connector's exports sent in this many seconds
        count with the staged ones, so that many small exports cannot pass what one large
        export may not; ``None``: each export counts alone.
    import_guard_percent: a full or delta import that would leave fewer than this share
        of the connector space's objects is refused (never turned into deletes).
    import_guard_min_objects: the guard applies from this many objects on; an import
        that returns nothing at all is refused whenever the space holds any object.
    staging_mode: import and sync run, export never does.
    error_limit: a run stops (``stopped-error-limit``) beyond this many object errors.
    batch_size: objects per atomic batch.
    reference_evaluation: scope and attribute flow run the reference implementations
        instead of generated code (slower; the same answers). The environment variable
        ``HYBRIDSYNC_REFERENCE_EVAL=1`` sets it.
    filter_groups: connector name -> the DN of its filtering group (``[filter] group``).
        A sync of that connector stops when its connector space does not hold the group:
        without it every object would leave scope and be deleted in the cloud.
    """

    deletion_threshold: int | None = 500
    deletion_threshold_percent: float | None = None
    deletion_window_seconds: float | None = None
    import_guard_percent: float = 50.0
    import_guard_min_objects: int = 20
    staging_mode: bool = False
    error_limit: int = 5000
    batch_size: int = 1000
    reference_evaluation: bool = field(default_factory=reference_from_env)
    filter_groups: Mapping[str, str] = field(default_factory=dict)
