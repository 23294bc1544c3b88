"""Moving a rollup's bounds on without passing over a row that can still commit inside them.

A rollup (the daily points, the KPI snapshots) holds exactly the rows of its table with
`id <= last_id` and `created_at < rolled_until` (`models.analytics.Rollup`); reads take every
other row live. Both bounds, because neither alone orders commits:
- ids do not follow commits: the express lane writes ids from blocks drawn earlier, so the
  time bound keeps such a row (old id, new `created_at`) in the live part;
- a transaction can stay open: on PostgreSQL new bounds are only *noted* (with the noting
  transaction's id) and taken by a later run once every transaction running at the note has
  ended (in the same database). SQLite has one writer at a time, so a run, holding the write
  lock, takes them at once.
`settle` keeps the time bound a little behind `now`, for the moment between a writer stamping
`created_at` and its insert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from punchcard.analytics.kpis.sql import is_sqlite
from punchcard.db import insert_or_skip
from punchcard.models.analytics import Rollup
from punchcard.models.base import table_of

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SETTLE = timedelta(minutes=1)


@dataclass(frozen=True)
class Bounds:
    last_id: int
    until: datetime

    def values(self, prefix: str) -> dict[str, object]:
        """As statement parameters: `{prefix}_id` and `{prefix}_until`."""
        return {f"{prefix}_id": self.last_id, f"{prefix}_until": self.until}


@dataclass(frozen=True)
class Step:
    """Bounds taken by one run: the rows inside `new` and outside `old` are to be rolled up."""

    old: Bounds
    new: Bounds

    def values(self) -> dict[str, object]:
        return {**self.old.values("old"), **self.new.values("new")}


def current(session: Session, name: str) -> Bounds:
    """The bounds a rollup holds now (nothing yet: every row is outside)."""
    row = session.execute(
        select(Rollup.last_id, Rollup.rolled_until).where(Rollup.name == name)
    ).one_or_none()
    return Bounds(0, EPOCH) if row is None else Bounds(int(row[0]), row[1])


def advance(
    session: Session, name: str, *, top: int, now: datetime, settle: timedelta = SETTLE
) -> Step | None:
    """Take the bounds noted by an earlier run if they are safe now, and note the next ones
    (`top`: the table's highest id now). The rollup's row stays locked until the caller
    commits, so two runs never take the same step; the caller rolls the step up in the same
    transaction."""
    session.execute(
        insert_or_skip(session, table_of(Rollup))
        .values(
            name=name,
            last_id=0,
            rolled_until=EPOCH,
            horizon_id=0,
            horizon_at=EPOCH,
            horizon_xmax=None,
        )
        .on_conflict_do_nothing()
    )
    state = session.execute(
        select(Rollup).where(Rollup.name == name).with_for_update()
    ).scalar_one()
    until = max(now - settle, state.rolled_until)
    if is_sqlite(session):
        step = _take(state, top, until)
        session.flush()
        return step
    step = None
    if state.horizon_xmax is not None and _finished(session, state.horizon_xmax):
        step = _take(state, state.horizon_id, state.horizon_at)
        state.horizon_xmax = None
    if state.horizon_xmax is None and (top > state.last_id or until > state.rolled_until):
        state.horizon_id, state.horizon_at = max(top, state.last_id), until
        # This transaction's own id: every transaction running now has a smaller one.
        state.horizon_xmax = int(
            session.execute(text("SELECT pg_current_xact_id()::text")).scalar_one()
        )
    session.flush()
    return step


def _finished(session: Session, noted: int) -> bool:
    """Whether every transaction of this database that was running when the bounds were noted
    has ended (all had ids below the noting transaction's `noted`).

    Only this database's transactions can write its rows, so those of other databases on the
    server (a long dump, another tenant's job, a parallel test run) must not hold the rollup
    back, as the server-wide `pg_snapshot_xmin` would. Prepared transactions are counted too.
    Running ids are 32-bit `xid`s: one precedes `noted` when it lies in the 2^31 before it,
    which holds for every running transaction because the server stops before wrap-around."""
    running = session.execute(
        text(
            "SELECT backend_xid::text FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_xid IS NOT NULL"
            " UNION ALL SELECT transaction::text FROM pg_prepared_xacts"
            " WHERE database = current_database()"
        )
    ).scalars()
    low = noted & 0xFFFFFFFF
    return not any(0 < (low - int(xid)) & 0xFFFFFFFF < 1 << 31 for xid in running)


def _take(state: Rollup, new_id: int, new_until: datetime) -> Step | None:
    old = Bounds(state.last_id, state.rolled_until)
    new = Bounds(max(new_id, old.last_id), max(new_until, old.until))
    if new == old:
        return None
    state.last_id, state.rolled_until = new.last_id, new.until
    return Step(old, new)
