"""The money sections of the summary: liability, campaigns, rewards and ROI."""

from __future__ import annotations

from decimal import Decimal

from punchcard.analytics.kpis import domain
from punchcard.analytics.kpis.repository import Usage
from punchcard.analytics.kpis.rollup import AccountSums
from punchcard.analytics.kpis.schemas import (
    CampaignOut,
    LiabilityOut,
    PointsOut,
    RewardOut,
    RoiOut,
)
from punchcard.programs.domain import ProgramSettings

ROI_METHOD = (
    "attributable revenue = totals less refunds of orders placed within the range that used a "
    "reward code or paid with points; cost = (points redeemed + points donated within the "
    "range, net of cancellations) x point_value; roi = (attributable revenue - cost) / cost. "
    "Orders of members that used no code are not counted, however loyal: the figure is a floor."
)


def liability_out(
    program: ProgramSettings, sums: list[AccountSums], outstanding: int, notes: list[str]
) -> LiabilityOut:
    """Breakage observed over all history up to `to`, so a short range does not swing it."""

    def lifetime(account: str) -> int:
        return sum(s.to_end for s in sums if s.account == account)

    observed = domain.observed_breakage(
        expired=lifetime("program:expired"),
        redeemed=lifetime("program:redeemed"),
        donated=lifetime("program:donated"),
        issued=-lifetime("program:issued"),
    )
    found = domain.liability(
        outstanding=outstanding,
        point_value=program.point_value,
        setting=program.expected_breakage,
        observed=observed,
    )
    notes.append(
        {
            "setting": "liability: expected breakage is the program's expected_breakage setting",
            "observed": "liability: expected breakage is the breakage observed up to `to` "
            "(expected_breakage is not set)",
            "none": "liability: no breakage deducted (expected_breakage is not set, and too "
            f"few points have been redeemed, donated or expired yet: at least "
            f"{domain.MIN_SETTLED_POINTS} and a quarter of those issued)",
        }[found.breakage_source]
    )
    return LiabilityOut(
        outstanding_points=found.outstanding_points,
        expected_breakage=float(found.expected_breakage),
        breakage_source=found.breakage_source,
        expected_redeemable_points=found.expected_redeemable_points,
        point_value=program.point_value,
        money=found.money,
    )


def campaigns_out(rows: list[Usage], point_value: Decimal | None) -> list[CampaignOut]:
    return [
        CampaignOut(
            rule_id=str(row.key),
            awards=row.count,
            points=row.points,
            cost=domain.money_of(row.points, point_value),
            orders=row.orders,
            revenue=domain.cents(row.revenue),
        )
        for row in rows
    ]


def rewards_out(rows: list[Usage], point_value: Decimal | None) -> list[RewardOut]:
    return [
        RewardOut(
            reward_id=None if row.key is None else int(row.key),
            name=row.name if row.key is not None else "pay with points",
            redemptions=row.count,
            points=row.points,
            cost=domain.money_of(row.points, point_value),
            orders=row.orders,
            revenue=domain.cents(row.revenue),
        )
        for row in rows
    ]


def roi_out(
    found: tuple[int, Decimal], points: PointsOut, point_value: Decimal | None, notes: list[str]
) -> RoiOut:
    orders, revenue = found
    cost = domain.money_of(points.redeemed + points.donated, point_value)
    ratio = domain.roi(attributable_revenue=revenue, cost=cost)
    if cost is not None and ratio is None:
        notes.append("roi is null: nothing was redeemed or donated within the range")
    return RoiOut(
        attributable_orders=orders,
        attributable_revenue=domain.cents(revenue),
        cost=cost,
        accrual_cost=domain.money_of(points.issued, point_value),
        roi=None if ratio is None else float(ratio),
        method=ROI_METHOD,
    )
