"""Exit statuses shared by every command. Each means one thing only.

| status | meaning |
|---|---|
| 0 | success |
| 1 | completed, with object errors (see ``hybridsync history --errors``) |
| 2 | stopped (a safety check, the error limit, a failed connector, a stale plan) |
| 3 | configuration error (a file, an option or a secret the configuration names) |
| 4 | not found (the object, run or application asked for does not exist) |
| 5 | unreachable (a server could not be reached: name, connection, TLS) |

``migrate verify`` uses 1 for "differences found": objects hybridsync would change
in the cloud, and object errors, which an administrator must read the same way. Each
is listed; 0 means nothing would change.
"""

from __future__ import annotations

SUCCESS = 0
OBJECT_ERRORS = 1
DIFFERENCES = 1
"""``migrate verify``: something must be read (a change or an object error); listed."""
STOPPED = 2
CONFIG_ERROR = 3
NOT_FOUND = 4
UNREACHABLE = 5
