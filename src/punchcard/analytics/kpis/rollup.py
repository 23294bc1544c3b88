"""The daily points rollup: reading it (with the live rows outside its bounds) and moving it on.

Refreshing is a job, never the earn path. The rollup holds exactly the journal rows with
`id <= last_id` and `created_at < rolled_until` (see `models.analytics.Rollup`); reads add every
row outside those bounds, in the same snapshot (sql.tune), so an answer is always current
and a refresh committing meanwhile is never counted twice.

Bounds move on as bounds.py says (never past a row that can still commit inside them).
Each run rolls postings up under the tier each member holds then: rows never move between tiers
afterwards, so points by tier need no per-member read (the rows outside the bounds take the
member's current tier).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from punchcard.analytics.kpis import bounds
from punchcard.analytics.kpis.bounds import SETTLE
from punchcard.analytics.kpis.sql import day_of, integer, statement
from punchcard.models.ledger_transaction import LedgerTransaction

NAME = "points"

# Inside the rollup: id <= last_id AND created_at < rolled_until; read live: the rest, as two
# disjoint ranges (new ids; old ids written after the time bound), each a range of one index
# (the primary key; on PostgreSQL the BRIN index on created_at). The bounds come in as values,
# read in the same snapshot (sql.tune): the planner sees them and picks those ranges.
_LIVE = """
  SELECT m.channel, coalesce(mt.tier, ''), pt.account,
         CASE WHEN t.occurred_at >= :start THEN pt.amount ELSE 0 END, pt.amount
  FROM ledger_transactions t
  JOIN postings pt ON pt.transaction_id = t.id
  JOIN members m ON m.id = t.member_id
  LEFT JOIN member_tiers mt ON mt.program_id = t.program_id AND mt.member_id = t.member_id
  WHERE t.program_id = :p AND t.occurred_at < :stop AND {where}
"""
_READ = """
SELECT channel, tier, account, sum(in_range), sum(to_end) FROM (
  SELECT channel, tier, account, CASE WHEN day >= :first THEN amount ELSE 0 END AS in_range,
         amount AS to_end
  FROM analytics_points_daily WHERE program_id = :p AND day <= :last
  UNION ALL {new_ids}
  UNION ALL {late_rows}
) x GROUP BY channel, tier, account
"""
_PARTS = {
    "new_ids": _LIVE.format(where="t.id > :old_id"),
    "late_rows": _LIVE.format(where="t.id <= :old_id AND t.created_at >= :old_until"),
}

# The rows the new bounds take in that the old ones did not: written as two ranges (new ids,
# and old ids written after the old time bound) so that each is a range of one index.
_ADD = """
INSERT INTO analytics_points_daily (program_id, day, channel, tier, account, amount)
SELECT t.program_id, {day}, m.channel, coalesce(mt.tier, ''), pt.account, sum(pt.amount)
FROM ledger_transactions t
JOIN postings pt ON pt.transaction_id = t.id
JOIN members m ON m.id = t.member_id
LEFT JOIN member_tiers mt ON mt.program_id = t.program_id AND mt.member_id = t.member_id
WHERE t.id <= :new_id AND t.created_at < :new_until
  AND ((t.id > :old_id) OR (t.id <= :old_id AND t.created_at >= :old_until))
GROUP BY t.program_id, {day}, m.channel, coalesce(mt.tier, ''), pt.account
ON CONFLICT (program_id, day, channel, tier, account)
DO UPDATE SET amount = analytics_points_daily.amount + excluded.amount
"""


@dataclass(frozen=True)
class AccountSums:
    """One (channel, tier, account): the postings' sum within the range and up to its end.
    The tier is the one the member held when the job rolled the postings up (the current one
    for the rows not rolled up yet); None for no stored tier."""

    channel: str
    tier: str | None
    account: str
    in_range: int
    to_end: int


def sums(session: Session, program_id: int, params: dict[str, object]) -> list[AccountSums]:
    """The rollup plus the rows outside its bounds. The bounds are read first: in the summary's
    one snapshot (sql.tune on PostgreSQL, a read transaction on SQLite) they are exactly those
    of the rollup rows read next, so a refresh committing meanwhile is never counted twice."""
    held = bounds.current(session, NAME)
    values = {"p": program_id, **held.values("old"), **params}
    rows = session.execute(statement(_READ.format(**_PARTS)), values)
    return [AccountSums(r[0], r[1] or None, r[2], integer(r[3]), integer(r[4])) for r in rows]


def refresh(session: Session, *, now: datetime, settle: timedelta = SETTLE) -> int:
    """Take the bounds noted by an earlier run if they are safe now (bounds.py), and note the
    next ones. Returns how many journal rows (by id span) the rollup took in."""
    top = int(
        session.execute(select(func.coalesce(func.max(LedgerTransaction.id), 0))).scalar_one()
    )
    step = bounds.advance(session, NAME, top=top, now=now, settle=settle)
    if step is None:
        return 0
    session.execute(statement(_ADD.format(day=day_of(session, "t.occurred_at"))), step.values())
    return integer(step.new.last_id - step.old.last_id)
