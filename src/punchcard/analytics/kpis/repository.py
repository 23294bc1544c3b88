"""The KPI statements read live beside the rollup and the snapshots: the redemptions per
reward within a range (a small table) and rewards' names, plus the shapes the figures come
in. Segments are keyed by (enrolment channel, current tier); a member with no stored tier has
tier None here, and the service names it after the ladder's base tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.analytics.kpis.sql import integer, statement
from punchcard.models import Reward

Segment = tuple[str, str | None]

_REWARD_REDEMPTIONS = """
SELECT r.reward_id, max(w.name), count(*), sum(r.points)
FROM redemptions r LEFT JOIN rewards w ON w.id = r.reward_id
WHERE r.program_id = :p AND r.created_at >= :start AND r.created_at < :stop
  AND r.status <> 'cancelled'
GROUP BY r.reward_id
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


def redemptions(session: Session, program_id: int, params: dict[str, object]) -> list[Usage]:
    """Redemptions and points per reward within the range (None: pay with points)."""
    rows = session.execute(statement(_REWARD_REDEMPTIONS), {"p": program_id, **params})
    return [Usage(r[0], r[1], integer(r[2]), integer(r[3])) for r in rows]


def reward_names(session: Session, program_id: int, keys: list[int]) -> dict[int, str]:
    """Names of rewards whose codes were redeemed before the range and used within it."""
    if not keys:
        return {}
    found = session.execute(
        select(Reward.id, Reward.name).where(Reward.program_id == program_id, Reward.id.in_(keys))
    )
    return {int(row.id): str(row.name) for row in found}
