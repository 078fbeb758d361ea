"""Migrating an Entra Connect Sync configuration into hybridsync's files.

``export`` reads a server configuration export (the folder
``Get-ADSyncServerConfiguration`` writes) into plain dataclasses; ``convert`` turns it
into rule files, a ``hybridsync.toml`` and a report; ``output`` writes them all or
nothing.
"""
