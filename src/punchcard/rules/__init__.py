"""Declarative earning rules: conditions, effects, caps, budgets and stacking."""
