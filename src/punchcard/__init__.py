"""Punchcard: a self-hosted, API-first loyalty engine for e-commerce."""

__version__ = "0.1.0"
