"""Every KPI statement but the points rollup's: members, activity, orders, cohorts, tiers,
campaigns and rewards. Each is one statement per program and range, grouped in the database,
answered by a range of one index (see models/analytics.py) rather than a scan of the table.

Segment rows come back keyed by (enrolment channel, current tier); a member with no stored
tier has tier None here, and the service names it after the ladder's base tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.analytics.kpis.domain import Buyers
from punchcard.analytics.kpis.sql import integer, money, month_of, statement
from punchcard.models import Reward

Segment = tuple[str, str | None]

_MEMBERS = """
SELECT m.channel, mt.tier, count(*),
       sum(CASE WHEN m.created_at >= :start THEN 1 ELSE 0 END)
FROM members m
LEFT JOIN member_tiers mt ON mt.program_id = m.program_id AND mt.member_id = m.id
WHERE m.program_id = :p AND m.created_at < :stop
GROUP BY m.channel, mt.tier
"""

_ACTIVE = """
SELECT m.channel, mt.tier, count(*), sum(CASE WHEN e.last_at >= :a30 THEN 1 ELSE 0 END)
FROM (SELECT member_id, max(occurred_at) AS last_at FROM events
      WHERE program_id = :p AND occurred_at >= :a90 AND occurred_at < :stop
        AND member_id IS NOT NULL
      GROUP BY member_id) e
JOIN members m ON m.id = e.member_id
LEFT JOIN member_tiers mt ON mt.program_id = m.program_id AND mt.member_id = m.id
GROUP BY m.channel, mt.tier
"""

# Per member: orders and revenue in the range, and orders in the churn window before it.
_ORDERS = """
SELECT m.channel, mt.tier, sum(o.n), sum(o.revenue),
       sum(CASE WHEN o.n > 0 THEN 1 ELSE 0 END), sum(CASE WHEN o.n > 1 THEN 1 ELSE 0 END),
       sum(CASE WHEN o.prior > 0 THEN 1 ELSE 0 END),
       sum(CASE WHEN o.prior > 0 AND o.n = 0 THEN 1 ELSE 0 END)
FROM (SELECT member_id,
        sum(CASE WHEN placed_at >= :start AND status <> 'refunded' THEN 1 ELSE 0 END) AS n,
        sum(CASE WHEN placed_at >= :start THEN total - refunded_amount ELSE 0 END) AS revenue,
        sum(CASE WHEN placed_at < :start AND status <> 'refunded' THEN 1 ELSE 0 END) AS prior
      FROM orders WHERE program_id = :p AND placed_at >= :since AND placed_at < :stop
        AND currency = :currency
      GROUP BY member_id) o
JOIN members m ON m.id = o.member_id
LEFT JOIN member_tiers mt ON mt.program_id = m.program_id AND mt.member_id = m.id
GROUP BY m.channel, mt.tier
"""

_COHORT_SIZES = """
SELECT {month}, count(*) FROM members
WHERE program_id = :p AND created_at >= :start AND created_at < :stop GROUP BY {month}
"""

_COHORT_BUYERS = """
SELECT {cohort}, {ordered}, count(DISTINCT o.member_id)
FROM orders o JOIN members m ON m.id = o.member_id
WHERE o.program_id = :p AND o.placed_at >= :start AND o.placed_at < :stop
  AND o.currency = :currency AND o.status <> 'refunded'
  AND m.created_at >= :start AND m.created_at < :stop
GROUP BY {cohort}, {ordered}
"""

# Issued and redeemed of members holding a stored tier other than the base, from the journal
# headers alone: a reversal counts against the kind it reverses.
_TIER_POINTS = """
SELECT x.tier,
  sum(CASE WHEN x.kind = 'earn' THEN x.points
           WHEN x.kind = 'reversal' AND x.reversed = 'earn' THEN -x.points ELSE 0 END),
  sum(CASE WHEN x.kind = 'spend' THEN x.points
           WHEN x.kind = 'reversal' AND x.reversed = 'spend' THEN -x.points ELSE 0 END)
FROM (SELECT mt.tier, t.kind, t.points,
        CASE WHEN t.kind = 'reversal' THEN
          (SELECT o.kind FROM ledger_transactions o WHERE o.id = t.reverses_id) END AS reversed
      FROM member_tiers mt
      JOIN ledger_transactions t ON t.program_id = mt.program_id AND t.member_id = mt.member_id
      WHERE mt.program_id = :p AND t.occurred_at >= :start AND t.occurred_at < :stop
        {not_base}) x
GROUP BY x.tier
"""

_CAMPAIGN_POINTS = """
SELECT rule_id, sum(points - reversed_points), count(*) FROM awards
WHERE program_id = :p AND occurred_at >= :start AND occurred_at < :stop GROUP BY rule_id
"""

# Orders first, each order's awards by their event index: SQLite (CROSS JOIN fixes its join
# order) would otherwise search the program's orders once per award, with no index on
# orders.event_id; PostgreSQL hashes either way.
_CAMPAIGN_ORDERS = """
SELECT x.rule_id, sum(CASE WHEN x.status <> 'refunded' THEN 1 ELSE 0 END), sum(x.net)
FROM (SELECT DISTINCT a.rule_id, o.order_id, o.status, o.total - o.refunded_amount AS net
      FROM orders o CROSS JOIN awards a
      WHERE o.program_id = :p AND o.currency = :currency
        AND a.event_id = o.event_id AND a.program_id = :p
        AND a.occurred_at >= :start AND a.occurred_at < :stop) x
GROUP BY x.rule_id
"""

_REWARD_REDEMPTIONS = """
SELECT r.reward_id, max(w.name), count(*), sum(r.points)
FROM redemptions r LEFT JOIN rewards w ON w.id = r.reward_id
WHERE r.program_id = :p AND r.created_at >= :start AND r.created_at < :stop
  AND r.status <> 'cancelled'
GROUP BY r.reward_id
"""

_REWARD_ORDERS = """
SELECT x.reward_id, sum(CASE WHEN o.status <> 'refunded' THEN 1 ELSE 0 END),
       sum(o.total - o.refunded_amount)
FROM (SELECT DISTINCT reward_id, used_order_id FROM redemptions
      WHERE program_id = :p AND used_order_id IS NOT NULL AND status <> 'cancelled') x
JOIN orders o ON o.program_id = :p AND o.order_id = x.used_order_id
  AND o.currency = :currency
WHERE o.placed_at >= :start AND o.placed_at < :stop
GROUP BY x.reward_id
"""

_ATTRIBUTABLE = """
SELECT sum(CASE WHEN o.status <> 'refunded' THEN 1 ELSE 0 END), sum(o.total - o.refunded_amount)
FROM orders o
WHERE o.program_id = :p AND o.placed_at >= :start AND o.placed_at < :stop
  AND o.currency = :currency
  AND EXISTS (SELECT 1 FROM redemptions r WHERE r.program_id = :p
              AND r.used_order_id = o.order_id AND r.status <> 'cancelled')
"""

_FIRST_DAY = """
SELECT min(at) FROM (
  SELECT min(created_at) AS at FROM members WHERE program_id = :p
  UNION ALL SELECT min(occurred_at) FROM events WHERE program_id = :p
  UNION ALL SELECT min(placed_at) FROM orders WHERE program_id = :p
) x
"""


@dataclass(frozen=True)
class Headcount:
    members: int = 0
    enrolled: int = 0
    active_90: int = 0
    active_30: int = 0

    def __add__(self, other: Headcount) -> Headcount:
        return Headcount(
            self.members + other.members,
            self.enrolled + other.enrolled,
            self.active_90 + other.active_90,
            self.active_30 + other.active_30,
        )


@dataclass(frozen=True)
class Usage:
    """A campaign's or a reward's figures: points, how many awards or redemptions, orders."""

    key: str | int | None
    name: str | None
    count: int
    points: int
    orders: int = 0
    revenue: Decimal = Decimal(0)


def first_day(session: Session, program_id: int) -> date | None:
    value = session.execute(statement(_FIRST_DAY), {"p": program_id}).scalar()
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.date() if isinstance(value, datetime) else value


def headcounts(
    session: Session, program_id: int, params: dict[str, object]
) -> dict[Segment, Headcount]:
    result: dict[Segment, Headcount] = {}
    for r in session.execute(statement(_MEMBERS), {"p": program_id, **params}):
        result[(r[0], r[1])] = Headcount(members=integer(r[2]), enrolled=integer(r[3]))
    for r in session.execute(statement(_ACTIVE), {"p": program_id, **params}):
        found = result.get((r[0], r[1]), Headcount())
        result[(r[0], r[1])] = Headcount(
            found.members, found.enrolled, integer(r[2]), integer(r[3])
        )
    return result


def buyers(session: Session, program_id: int, params: dict[str, object]) -> dict[Segment, Buyers]:
    rows = session.execute(statement(_ORDERS), {"p": program_id, **params})
    return {
        (r[0], r[1]): Buyers(
            integer(r[2]), money(r[3]), integer(r[4]), integer(r[5]), integer(r[6]), integer(r[7])
        )
        for r in rows
    }


def cohort_counts(
    session: Session, program_id: int, params: dict[str, object]
) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    month = month_of(session, "created_at")
    sizes_sql = _COHORT_SIZES.format(month=month)
    sizes = {
        r[0]: integer(r[1])
        for r in session.execute(statement(sizes_sql), {"p": program_id, **params})
    }
    buyers_sql = _COHORT_BUYERS.format(
        cohort=month_of(session, "m.created_at"), ordered=month_of(session, "o.placed_at")
    )
    active = {
        (r[0], r[1]): integer(r[2])
        for r in session.execute(statement(buyers_sql), {"p": program_id, **params})
    }
    return sizes, active


def tier_points(
    session: Session, program_id: int, base: str | None, params: dict[str, object]
) -> dict[str, tuple[int, int]]:
    """(issued, redeemed) per stored tier, leaving out the base tier's rows."""
    sql = _TIER_POINTS.format(not_base="AND mt.tier <> :base" if base is not None else "")
    values = {"p": program_id, **params, **({"base": base} if base is not None else {})}
    return {r[0]: (integer(r[1]), integer(r[2])) for r in session.execute(statement(sql), values)}


def campaigns(session: Session, program_id: int, params: dict[str, object]) -> list[Usage]:
    values = {"p": program_id, **params}
    orders = {
        r[0]: (integer(r[1]), money(r[2]))
        for r in session.execute(statement(_CAMPAIGN_ORDERS), values)
    }
    result = []
    for r in session.execute(statement(_CAMPAIGN_POINTS), values):
        count, revenue = orders.get(r[0], (0, Decimal(0)))
        result.append(Usage(r[0], None, integer(r[2]), integer(r[1]), count, revenue))
    return sorted(result, key=lambda u: str(u.key))


def rewards(session: Session, program_id: int, params: dict[str, object]) -> list[Usage]:
    values = {"p": program_id, **params}
    orders = {
        r[0]: (integer(r[1]), money(r[2]))
        for r in session.execute(statement(_REWARD_ORDERS), values)
    }
    result = []
    for r in session.execute(statement(_REWARD_REDEMPTIONS), values):
        count, revenue = orders.pop(r[0], (0, Decimal(0)))
        result.append(Usage(r[0], r[1], integer(r[2]), integer(r[3]), count, revenue))
    # Codes redeemed before the range, used on an order within it.
    names: dict[int, str] = {}
    if orders:
        found = session.execute(
            select(Reward.id, Reward.name).where(
                Reward.program_id == program_id, Reward.id.in_([k for k in orders if k])
            )
        )
        names = {int(row.id): str(row.name) for row in found}
    result += [Usage(key, names.get(key), 0, 0, n, rev) for key, (n, rev) in orders.items()]
    return sorted(result, key=lambda u: (u.key is None, u.key or 0))


def attributable(
    session: Session, program_id: int, params: dict[str, object]
) -> tuple[int, Decimal]:
    row = session.execute(statement(_ATTRIBUTABLE), {"p": program_id, **params}).one()
    return integer(row[0]), money(row[1])
