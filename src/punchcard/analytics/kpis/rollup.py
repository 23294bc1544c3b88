"""The daily points rollup: reading it (with the live rows outside its bounds) and moving it on.

Refreshing is a job, never the earn path. The rollup holds exactly the journal rows with
`id <= last_id` and `created_at < rolled_until` (see `models.analytics.Rollup`); reads add every
row outside those bounds, in the same statement (one snapshot), so an answer is always current
and a refresh committing meanwhile is never counted twice.

Moving the bounds on must never pass over a row that can still commit inside them:
- ids do not follow commits: the express lane writes ids from blocks drawn earlier, so the
  time bound keeps such a row (old id, new `created_at`) in the live part;
- a transaction can stay open: on PostgreSQL new bounds are only *noted* (with the snapshot's
  xmax) and taken by a later run once every transaction running at the note has ended.
  SQLite has one writer at a time, so the refresh, holding the write lock, takes them at once.
`settle` keeps the time bound a little behind `now`, for the moment between a writer stamping
`created_at` and its insert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from punchcard.analytics.kpis.sql import day_of, integer, is_sqlite, statement
from punchcard.db import insert_or_skip
from punchcard.models.analytics import Rollup
from punchcard.models.base import table_of
from punchcard.models.ledger_transaction import LedgerTransaction

NAME = "points"
SETTLE = timedelta(minutes=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Inside the rollup: id <= last_id AND created_at < rolled_until; read live: the rest. The
# bounds are read by the statement itself, so they are those of its own snapshot.
_READ = """
SELECT channel, account, sum(in_range), sum(to_end) FROM (
  SELECT channel, account, CASE WHEN day >= :first THEN amount ELSE 0 END AS in_range,
         amount AS to_end
  FROM analytics_points_daily WHERE program_id = :p AND day <= :last
  UNION ALL
  SELECT m.channel, pt.account, CASE WHEN t.occurred_at >= :start THEN pt.amount ELSE 0 END,
         pt.amount
  FROM ledger_transactions t
  JOIN postings pt ON pt.transaction_id = t.id
  JOIN members m ON m.id = t.member_id
  WHERE t.program_id = :p AND t.occurred_at < :stop
    AND (t.id > coalesce((SELECT last_id FROM analytics_rollups WHERE name = :name), 0)
         OR t.created_at >= coalesce(
           (SELECT rolled_until FROM analytics_rollups WHERE name = :name), :until))
) x GROUP BY channel, account
"""

# The rows the new bounds take in that the old ones did not: written as two ranges (new ids,
# and old ids written after the old time bound) so that each is a range of one index.
_ADD = """
INSERT INTO analytics_points_daily (program_id, day, channel, account, amount)
SELECT t.program_id, {day}, m.channel, pt.account, sum(pt.amount)
FROM ledger_transactions t
JOIN postings pt ON pt.transaction_id = t.id
JOIN members m ON m.id = t.member_id
WHERE t.id <= :new_id AND t.created_at < :new_until
  AND ((t.id > :old_id) OR (t.id <= :old_id AND t.created_at >= :old_until))
GROUP BY t.program_id, {day}, m.channel, pt.account
ON CONFLICT (program_id, day, channel, account)
DO UPDATE SET amount = analytics_points_daily.amount + excluded.amount
"""


@dataclass(frozen=True)
class AccountSums:
    """One (channel, account): the postings' sum within the range and up to its end."""

    channel: str
    account: str
    in_range: int
    to_end: int


def sums(session: Session, program_id: int, params: dict[str, object]) -> list[AccountSums]:
    values = {"p": program_id, "name": NAME, "until": EPOCH, **params}
    rows = session.execute(statement(_READ), values)
    return [AccountSums(r[0], r[1], integer(r[2]), integer(r[3])) for r in rows]


def refresh(session: Session, *, now: datetime, settle: timedelta = SETTLE) -> int:
    """Take the bounds noted by an earlier run if they are safe now, and note the next ones.
    Returns how many journal rows (by id span) the rollup took in."""
    table = table_of(Rollup)
    session.execute(
        insert_or_skip(session, table)
        .values(
            name=NAME,
            last_id=0,
            rolled_until=EPOCH,
            horizon_id=0,
            horizon_at=EPOCH,
            horizon_xmax=None,
        )
        .on_conflict_do_nothing()
    )
    state = session.execute(
        select(Rollup).where(Rollup.name == NAME).with_for_update()
    ).scalar_one()
    top = int(
        session.execute(select(func.coalesce(func.max(LedgerTransaction.id), 0))).scalar_one()
    )
    until = max(now - settle, state.rolled_until)
    if is_sqlite(session):
        rolled = _take(session, state, top, until)
        session.flush()
        return rolled
    rolled = 0
    if state.horizon_xmax is not None and _finished(session, state.horizon_xmax):
        rolled = _take(session, state, state.horizon_id, state.horizon_at)
        state.horizon_xmax = None
    if state.horizon_xmax is None and (top > state.last_id or until > state.rolled_until):
        state.horizon_id, state.horizon_at = max(top, state.last_id), until
        # This transaction's own id: every transaction running now has a smaller one.
        state.horizon_xmax = int(
            session.execute(text("SELECT pg_current_xact_id()::text")).scalar_one()
        )
    session.flush()
    return rolled


def _finished(session: Session, noted: int) -> bool:
    """Whether every transaction that was running when the bounds were noted (all have ids
    below the noting transaction's `noted`) has ended: the oldest running one is newer."""
    oldest = session.execute(
        text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
    ).scalar_one()
    return int(oldest) > noted


def _take(session: Session, state: Rollup, new_id: int, new_until: datetime) -> int:
    new_id, new_until = max(new_id, state.last_id), max(new_until, state.rolled_until)
    if new_id == state.last_id and new_until == state.rolled_until:
        return 0
    session.execute(
        statement(_ADD.format(day=day_of(session, "t.occurred_at"))),
        {
            "old_id": state.last_id,
            "old_until": state.rolled_until,
            "new_id": new_id,
            "new_until": new_until,
        },
    )
    rolled = new_id - state.last_id
    state.last_id, state.rolled_until = new_id, new_until
    return integer(rolled)
