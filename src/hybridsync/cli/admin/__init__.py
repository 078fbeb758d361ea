"""The sync service's admin address: health, readiness, a JSON API and Prometheus metrics.

``hybridsync serve`` listens on it beside its cycles (see ``docs/operations.md``).
"""
