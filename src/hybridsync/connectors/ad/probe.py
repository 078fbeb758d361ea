"""Why a connection failed: libldap reports a TLS failure as "Can't contact LDAP server".

After such a failure the connector looks again with the standard library: if the port
answers, the problem is TLS, and Python's own handshake names it (untrusted issuer,
wrong name, expired).
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["diagnose_tls"]


def _endpoint(url: str) -> tuple[str, int, bool]:
    parts = urlsplit(url)
    secure = parts.scheme == "ldaps"
    return parts.hostname or "", parts.port or (636 if secure else 389), secure


def diagnose_tls(url: str, ca_file: Path | None, timeout: float) -> str | None:
    """A description of the TLS problem, or None if the server does not answer at all."""
    host, port, secure = _endpoint(url)
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return None
    with raw:
        if not secure:
            return f"{host}:{port} answers, but StartTLS failed"
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        try:
            with context.wrap_socket(raw, server_hostname=host):
                return f"{host}:{port} answers and Python's TLS check passes; libldap's did not"
        except ssl.SSLCertVerificationError as exc:
            return f"certificate of {host}:{port} not accepted: {exc.verify_message}"
        except (ssl.SSLError, OSError) as exc:
            return f"TLS handshake with {host}:{port} failed: {exc}"
