"""Config pieces for password hash sync tests that reach no directory: nothing listens on
port 1, so every PHS run fails at once and the loop retries it, as during a DC outage."""

from __future__ import annotations

UNREACHABLE_CONNECTORS = """
[[connectors]]
type = "ad"
name = "ad"
url = "ldaps://127.0.0.1:1"
bind_user = "svc@corp.contoso.com"
password_env = "TEST_AD_PASSWORD"

[[connectors]]
type = "graph"
name = "cloud"
base_url = "https://127.0.0.1:1/v1.0"
authority = "https://127.0.0.1:1/tenant"
client_id = "client"
client_secret = "not-a-real-secret"
target = "{target}"
"""
"""The AD and Graph connectors (``target`` to fill in), passwords from ``TEST_AD_PASSWORD``."""

PHS_SECTION = """
[password_hash_sync]
source = "{source}"
target = "cloud"
dc_host = "127.0.0.1"
domain = "corp.contoso.com"
username = "svc-phs"
password_env = "TEST_PHS_PASSWORD"
"""
"""The ``[password_hash_sync]`` table (``source`` to fill in), password from
``TEST_PHS_PASSWORD``."""
