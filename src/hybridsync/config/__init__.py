"""Configuration files into models."""
