"""A source connector over LDIF files (ldapsearch, ldifde)."""

from __future__ import annotations

from hybridsync.connectors.ldif.config import LdifConfig
from hybridsync.connectors.ldif.connector import LdifSource
from hybridsync.connectors.ldif.parser import LdifRecord, LdifSyntaxError, read_records

__all__ = ["LdifConfig", "LdifRecord", "LdifSource", "LdifSyntaxError", "read_records"]
