"""Helpers that know nothing about Punchcard: they may be imported from anywhere."""
