"""An Entra-compatible cloud directory and identity provider (a product of its own)."""
