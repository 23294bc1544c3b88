"""Tiers: qualifying metrics, upgrades at the event, downgrades when the window rolls."""
