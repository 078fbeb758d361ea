"""Persistence of connector spaces, metaverse, watermarks and runs."""
