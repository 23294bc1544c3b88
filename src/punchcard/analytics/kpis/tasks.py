"""The KPI rollup's periodic refresh, run by `punchcard jobs run` and the worker."""

from __future__ import annotations

from datetime import datetime, timedelta

from punchcard.analytics.kpis import rollup
from punchcard.db import Database, session_scope


def refresh_rollup(db: Database, *, now: datetime, settle: timedelta = rollup.SETTLE) -> int:
    """Roll the settled journal tail into the daily points rollup; how many transaction ids."""
    with session_scope(db.writer) as session:
        return rollup.refresh(session, now=now, settle=settle)
