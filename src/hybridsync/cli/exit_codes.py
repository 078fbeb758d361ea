"""Exit statuses shared by every command."""

from __future__ import annotations

SUCCESS = 0
OBJECT_ERRORS = 1
STOPPED = 2
CONFIG_ERROR = 3
