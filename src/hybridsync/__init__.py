"""hybridsync: on-premises Active Directory to an Entra-compatible cloud directory.

Importing ``hybridsync`` pulls in no I/O library; each subpackage exports its own API.
``__version__`` is read from the installed metadata on first use (reading it scans the
environment's packages, which every command would otherwise pay at start-up).
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module 'hybridsync' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("hybridsync")
    except PackageNotFoundError:  # running from a source tree that is not installed
        found = "0.0.0"
    globals()["__version__"] = found
    return found
