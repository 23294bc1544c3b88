"""The KPI rollup's and snapshots' periodic refresh, run by `punchcard jobs run` and the worker."""

from __future__ import annotations

from datetime import datetime, timedelta

from punchcard.analytics.kpis import refresh, rollup
from punchcard.analytics.kpis.bounds import SETTLE
from punchcard.db import Database, session_scope


def refresh_rollup(db: Database, *, now: datetime, settle: timedelta = SETTLE) -> int:
    """Roll the settled journal tail into the daily points rollup, then rebuild the monthly
    snapshots the settled new and changed rows touch; how many transaction ids rolled."""
    with session_scope(db.writer) as session:
        rolled = rollup.refresh(session, now=now, settle=settle)
    refresh_snapshots(db, now=now, settle=settle)
    return rolled


def refresh_snapshots(db: Database, *, now: datetime, settle: timedelta = SETTLE) -> int:
    with session_scope(db.writer) as session:
        return refresh.refresh(session, now=now, settle=settle)
