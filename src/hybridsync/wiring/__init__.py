"""The composition root: builds an engine from configuration."""
