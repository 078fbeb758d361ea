"""hybridsync: on-premises Active Directory to an Entra-compatible cloud directory.

Importing ``hybridsync`` pulls in no I/O library; each subpackage exports its own API.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hybridsync")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
