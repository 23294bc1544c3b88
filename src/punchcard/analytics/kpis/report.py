"""`punchcard analytics report`: the KPI summary as a table, JSON or CSV (stub, KPI work)."""

from __future__ import annotations

from datetime import date

from punchcard.db import Database

OUTPUTS = ("table", "json", "csv")


def render(
    db: Database, *, program_id: int, start: date | None, end: date | None, output: str
) -> str:
    raise NotImplementedError
