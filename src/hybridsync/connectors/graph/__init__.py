"""The Microsoft Graph connector: cloud users as a connected directory.

Works against Microsoft Entra ID and against the project's own cloud directory
(``target = "hybridsync"``, which also takes the synced-user markers).
"""

from __future__ import annotations

from hybridsync.connectors.graph.budget import ExportProgress
from hybridsync.connectors.graph.config import CertificateCredential, GraphConfig, WriteQuota
from hybridsync.connectors.graph.connector import GraphConnector

__all__ = ["CertificateCredential", "ExportProgress", "GraphConfig", "GraphConnector", "WriteQuota"]
