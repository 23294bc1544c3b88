"""Tables that serve the analytics queries (owned by the KPI work)."""

from __future__ import annotations
