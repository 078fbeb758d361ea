"""Test helpers shared across test packages: real servers and their data."""
