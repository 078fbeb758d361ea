"""The engine's safety and batching settings (built from config by wiring)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Attributes:
    deletion_threshold: an export staging more deletes than this stops before
        deleting anything (Entra Connect's default, 500); ``None`` disables the count.
    deletion_threshold_percent: the same as a share of the connector space's objects.
    import_guard_percent: a full or delta import that would leave fewer than this share
        of the connector space's objects is refused (never turned into deletes).
    import_guard_min_objects: the guard applies from this many objects on; an import
        that returns nothing at all is refused whenever the space holds any object.
    staging_mode: import and sync run, export never does.
    error_limit: a run stops (``stopped-error-limit``) beyond this many object errors.
    batch_size: objects per atomic batch.
    """

    deletion_threshold: int | None = 500
    deletion_threshold_percent: float | None = None
    import_guard_percent: float = 50.0
    import_guard_min_objects: int = 20
    staging_mode: bool = False
    error_limit: int = 5000
    batch_size: int = 1000
