"""The statements behind the monthly column sets: one month's rows of each kind (to build a
snapshot), the same rows outside the bounds (the live tail), and the months a step of new or
changed rows touches.

Orders, events, awards and codes used belong to the snapshots when their event is inside the
`kpi_events` bounds (`e.id <= :wm AND e.created_at < :wu`, see bounds.py); everything else is
the tail. `{source}` is the tables (the tail starts from the events, found by their primary
key and, on PostgreSQL, a BRIN index on `created_at`; orders are then found by their member,
an index the earn path keeps anyway), `{where}` the month or the tail condition.
"""

from __future__ import annotations

INSIDE = "e.id <= :wm AND e.created_at < :wu"
OUTSIDE = "e.program_id = :p AND (e.id > :wm OR e.created_at >= :wu)"
# Rows inside the new bounds of a step and outside its old ones.
STEP = (
    "e.id <= :new_id AND e.created_at < :new_until"
    " AND (e.id > :old_id OR e.created_at >= :old_until)"
)
MONTH_ORDERS = "orders o JOIN events e ON e.id = o.event_id"
# The tail's orders, computed first: left to itself, PostgreSQL's planner joins every order to
# the redemptions before looking at the few events of the tail (1.4 s instead of 0.1 s).
TAIL_ORDERS_FIRST = """WITH tail AS MATERIALIZED (
  SELECT o.* FROM events e JOIN orders o ON o.member_id = e.member_id AND o.event_id = e.id
  WHERE e.program_id = :p AND (e.id > :wm OR e.created_at >= :wu))"""
TAIL_ORDERS = "events e JOIN orders o ON o.member_id = e.member_id AND o.event_id = e.id"
MONTH_AWARDS = "awards a JOIN events e ON e.id = a.event_id"
TAIL_AWARDS = "events e JOIN awards a ON a.event_id = e.id"

_NET = "CAST(round((o.total - o.refunded_amount) * 100) AS BIGINT)"

# Orders in the program's currency only, as every order figure (other currencies do not add).
ORDERS = """{head}
SELECT o.member_id, {day}, {net}, CASE WHEN o.status <> 'refunded' THEN 1 ELSE 0 END
FROM {source} WHERE o.program_id = :p AND o.currency = :currency AND {where}
"""
ORDERS_MONTH = "o.placed_at >= :lo_at AND o.placed_at < :hi_at AND " + INSIDE

EVENTS = """
SELECT DISTINCT e.member_id, {day} FROM events e
WHERE e.program_id = :p AND e.member_id IS NOT NULL AND {where}
"""
EVENTS_MONTH = "e.occurred_at >= :lo_at AND e.occurred_at < :hi_at AND " + INSIDE

# Per rule and day: awards, net points, and the orders of the distinct (rule, event) pairs.
CAMPAIGNS = """
SELECT x.rule_id, x.day, sum(x.n), sum(x.pts),
       sum(CASE WHEN o.status <> 'refunded' THEN 1 ELSE 0 END), sum({net})
FROM (SELECT a.rule_id, a.event_id, a.member_id, {day} AS day, count(*) AS n,
             sum(a.points - a.reversed_points) AS pts
      FROM {source} WHERE a.program_id = :p AND {where}
      GROUP BY a.rule_id, a.event_id, a.member_id, {day}) x
LEFT JOIN orders o ON o.member_id = x.member_id AND o.event_id = x.event_id
  AND o.currency = :currency
GROUP BY x.rule_id, x.day
"""
AWARDS_MONTH = "a.occurred_at >= :lo_at AND a.occurred_at < :hi_at AND " + INSIDE

# Per reward (0: pay with points) and order day: the orders a live code was used on; key -1
# counts each such order once, whatever the codes (the ROI's attributable orders).
REWARDS = """{head}
SELECT x.k, x.day, sum(CASE WHEN x.status <> 'refunded' THEN 1 ELSE 0 END), sum(x.net)
FROM (SELECT DISTINCT coalesce(r.reward_id, 0) AS k, o.order_id, {day} AS day, o.status,
             {net} AS net
      FROM {source} JOIN redemptions r ON r.program_id = o.program_id
        AND r.used_order_id = o.order_id AND r.status <> 'cancelled'
      WHERE o.program_id = :p AND o.currency = :currency AND {where}
      UNION ALL
      SELECT DISTINCT -1, o.order_id, {day}, o.status, {net}
      FROM {source}
      WHERE o.program_id = :p AND o.currency = :currency AND {where}
        AND EXISTS (SELECT 1 FROM redemptions r WHERE r.program_id = o.program_id
                    AND r.used_order_id = o.order_id AND r.status <> 'cancelled')) x
GROUP BY x.k, x.day
"""

MEMBERS = "SELECT id, channel, {day} FROM members WHERE program_id = :p AND {where}"
MEMBERS_ALL = "id <= :mwm AND created_at < :mwu"
MEMBERS_TAIL = "(id > :mwm OR created_at >= :mwu)"

# The days (per program) that the rows of a step fall on.
NEW_DAYS = """
SELECT DISTINCT e.program_id, {e_day} FROM events e WHERE {step}
UNION SELECT DISTINCT o.program_id, {o_day} FROM {tail_orders} WHERE {step}
UNION SELECT DISTINCT a.program_id, {a_day} FROM {tail_awards} WHERE {step}
"""

# Refunds and cancellations change orders (and their awards) already in a snapshot.
REFUNDS = """
SELECT e.program_id, e.data FROM events e
WHERE {step} AND e.type IN ('order.refunded', 'order.cancelled')
"""
REFUNDED_DAYS = """
SELECT o.program_id, {o_day} FROM orders o
WHERE o.program_id = :p AND o.order_id = :order_id
UNION SELECT a.program_id, {a_day} FROM awards a JOIN orders o
  ON o.member_id = a.member_id AND o.event_id = a.event_id
WHERE o.program_id = :p AND o.order_id = :order_id
"""

# Codes used or cancelled within a step of the `kpi_changes` time bounds change their orders'
# reward figures.
CODE_DAYS = """
SELECT DISTINCT o.program_id, {o_day} FROM redemptions r
JOIN orders o ON o.program_id = r.program_id AND o.order_id = r.used_order_id
WHERE r.updated_at >= :old_until AND r.updated_at < :new_until
  AND r.used_order_id IS NOT NULL
"""

# Months built while the program had another currency: built again in the current one.
OTHER_CURRENCY = """
SELECT DISTINCT s.program_id, s.month FROM analytics_snapshots s
JOIN programs p ON p.id = s.program_id
WHERE s.kind <> 'members' AND s.currency <> p.currency
"""

NEW_MEMBER_PROGRAMS = """
SELECT DISTINCT program_id FROM members
WHERE id <= :new_id AND created_at < :new_until AND (id > :old_id OR created_at >= :old_until)
"""

LOAD = """
SELECT s.kind, s.month, s.data, s.currency
FROM analytics_snapshots s
WHERE s.program_id = :p AND (s.kind = 'members'
  OR (s.kind = 'events' AND s.month BETWEEN :e1 AND :m2)
  OR (s.kind = 'orders' AND s.month BETWEEN :o1 AND :m2)
  OR (s.kind IN ('campaigns', 'rewards') AND s.month BETWEEN :c1 AND :m2))
"""

FIRST_KEPT = "SELECT min(first_day) FROM analytics_snapshots WHERE program_id = :p"
FIRST_LIVE = """
SELECT min(at) FROM (
  SELECT min(e.occurred_at) AS at FROM events e WHERE {outside}
  UNION ALL SELECT min(created_at) FROM members WHERE program_id = :p AND {members_tail}
) x
"""

# Current tiers, one row per tier: its members' ids joined into one string.
TIERS = "SELECT tier, {ids} FROM member_tiers WHERE program_id = :p GROUP BY tier"


def render(template: str, **parts: str) -> str:
    """A statement with its shared pieces (and the caller's: day expressions, source, where)
    filled in."""
    shared = {
        "net": _NET,
        "step": STEP,
        "tail_orders": TAIL_ORDERS,
        "tail_awards": TAIL_AWARDS,
        "outside": OUTSIDE,
        "members_tail": MEMBERS_TAIL,
    }
    return template.format(**shared, **parts)
