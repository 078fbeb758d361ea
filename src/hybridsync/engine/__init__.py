"""Runs profiles over the ports core declares."""

from __future__ import annotations

from hybridsync.engine.context import EngineContext
from hybridsync.engine.control import ProgressCallback, RunControl, RunProgress
from hybridsync.engine.report import CycleReport, Profile, RunReport, Status
from hybridsync.engine.runner import Engine
from hybridsync.engine.settings import EngineSettings

__all__ = [
    "CycleReport",
    "Engine",
    "EngineContext",
    "EngineSettings",
    "Profile",
    "ProgressCallback",
    "RunControl",
    "RunProgress",
    "RunReport",
    "Status",
]
