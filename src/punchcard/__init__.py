"""Punchcard: a self-hosted, API-first loyalty engine for e-commerce."""

from punchcard.compiled import use_fresh_build

__version__ = "0.1.0"

use_fresh_build()  # before any compiled module can be imported
