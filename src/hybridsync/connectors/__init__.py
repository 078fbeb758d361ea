"""Adapters to connected directories."""
