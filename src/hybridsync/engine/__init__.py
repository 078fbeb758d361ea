"""Runs profiles over the ports core declares."""
