"""A target that only records what it is sent: for demos, tests and benchmarks."""

from __future__ import annotations

from hybridsync.connectors.recording.connector import RecordingConfig, RecordingTarget

__all__ = ["RecordingConfig", "RecordingTarget"]
