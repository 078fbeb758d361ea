"""What the cloud directory and its pass-through authentication agents must agree on.

The agent is a client of the cloud over HTTPS only and the cloud imports nothing of the sync
side, so neither may import the other: what both ends of the protocol use is written here once.
"""

from __future__ import annotations

ASSERTION_AUDIENCE = "hybridsync-pta"
"""The ``aud`` of the short-lived JWT an agent signs with its key to authenticate each call."""
