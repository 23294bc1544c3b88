"""The daily points rollup: reading it (with the live tail above its watermark) and moving it on.

Refreshing is a job, never the earn path: each run adds the postings of the transactions with
ids in (last_id, horizon_id] to `analytics_points_daily`, then notes the current highest id as
the next horizon. Ids are handed out before commit, so a transaction with a lower id can still
commit after a higher one was seen; waiting `settle` between noting a horizon and rolling up to
it leaves time for such a transaction to commit. Reads sum the rollup and the postings above
`last_id` in one statement (one snapshot), so a refresh committing meanwhile is never counted
twice and the answer is always current.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from punchcard.analytics.kpis.sql import day_of, integer, statement
from punchcard.db import insert_or_skip
from punchcard.models.analytics import Rollup
from punchcard.models.base import table_of
from punchcard.models.ledger_transaction import LedgerTransaction

NAME = "points"
SETTLE = timedelta(minutes=1)
BATCH = 500_000  # transactions per statement, so one refresh never holds a huge transaction

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
  WHERE t.id > :wm
    AND t.id > (SELECT coalesce(max(last_id), 0) FROM analytics_rollups WHERE name = :name)
    AND t.program_id = :p AND t.occurred_at < :stop
) x GROUP BY channel, account
"""

_ADD = """
INSERT INTO analytics_points_daily (program_id, day, channel, account, amount)
SELECT t.program_id, {day}, m.channel, pt.account, sum(pt.amount)
FROM ledger_transactions t
JOIN postings pt ON pt.transaction_id = t.id
JOIN members m ON m.id = t.member_id
WHERE t.id > :lo AND t.id <= :hi
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
    """The watermark is read first so that the planner sees it as a value and reads the tail
    as a short range of the primary key; the statement checks it again against its own
    snapshot, in case a refresh committed in between (the rollup then holds those ids)."""
    mark = session.execute(select(Rollup.last_id).where(Rollup.name == NAME)).scalar() or 0
    values = {"p": program_id, "name": NAME, "wm": mark, **params}
    rows = session.execute(statement(_READ), values)
    return [AccountSums(r[0], r[1], integer(r[2]), integer(r[3])) for r in rows]


def refresh(session: Session, *, now: datetime, settle: timedelta = SETTLE) -> int:
    """Roll up to the horizon noted at least `settle` ago; note the next. Transactions rolled."""
    table = table_of(Rollup)
    state = session.execute(select(Rollup).where(Rollup.name == NAME).with_for_update()).scalar()
    top = session.execute(select(func.coalesce(func.max(LedgerTransaction.id), 0))).scalar_one()
    if state is None:
        session.execute(
            insert_or_skip(session, table)
            .values(name=NAME, last_id=0, horizon_id=top, horizon_at=now)
            .on_conflict_do_nothing()
        )
        return 0 if settle else refresh(session, now=now, settle=settle)
    rolled = 0
    if state.horizon_at <= now - settle and state.horizon_id > state.last_id:
        add = statement(_ADD.format(day=day_of(session, "t.occurred_at")))
        low = state.last_id
        while low < state.horizon_id:
            high = min(low + BATCH, state.horizon_id)
            session.execute(add, {"lo": low, "hi": high})
            low = high
        rolled = state.horizon_id - state.last_id
        state.last_id = state.horizon_id
    if state.horizon_at <= now - settle or state.horizon_id <= state.last_id:
        state.horizon_id, state.horizon_at = max(top, state.last_id), now
    session.flush()
    return integer(rolled)
