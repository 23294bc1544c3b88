"""The KPI summary as the API and `punchcard analytics report --json` give it.

Money is a decimal string in the program's currency, null when the program has no
`point_value` (the `notes` say so). Rates are numbers from 0 to 1 (six places), null when
their denominator is zero. docs/kpis.md defines every figure; the descriptions here are the
short form that /docs shows.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

Money = Decimal


class MembersOut(BaseModel):
    enrolled: int = Field(description="Members who enrolled within the range.")
    total: int = Field(description="Members enrolled on or before `to`.")
    active_30d: int = Field(description="Members with any event in the 30 days ending on `to`.")
    active_90d: int = Field(description="Members with any event in the 90 days ending on `to`.")


class PointsOut(BaseModel):
    issued: int = Field(description="Points earned within the range, net of earn reversals.")
    adjusted: int = Field(description="Manual adjustments within the range, credits less debits.")
    redeemed: int = Field(
        description="Points spent on rewards or orders within the range, net of cancellations."
    )
    donated: int = Field(description="Points donated within the range, net of cancellations.")
    expired: int = Field(
        description="Points expired within the range, less expired points written back."
    )
    pending: int = Field(description="Points still in the return window at the end of `to`.")
    outstanding: int = Field(description="Members' available points at the end of `to`.")
    debt: int = Field(description="Points members owe after refunds, at the end of `to`.")


class RatesOut(BaseModel):
    redemption_rate: float | None = Field(description="(redeemed + donated) / issued.")
    breakage_rate: float | None = Field(description="expired / (expired + redeemed + donated).")


class LiabilityOut(BaseModel):
    outstanding_points: int = Field(description="Members' available points at the end of `to`.")
    expected_breakage: float = Field(description="The breakage deducted, 0 to 1.")
    breakage_source: str = Field(
        description="`setting` (the program's expected_breakage), `observed` (expired / "
        "(expired + redeemed + donated) over all history up to `to`) or `none` (neither known)."
    )
    expected_redeemable_points: int = Field(
        description="outstanding_points x (1 - expected_breakage), rounded."
    )
    point_value: Money | None = Field(description="The program's cost of one redeemed point.")
    money: Money | None = Field(description="expected_redeemable_points x point_value.")


class OrdersOut(BaseModel):
    orders: int = Field(description="Members' orders placed within the range, not fully refunded.")
    revenue: Money = Field(description="Their totals less refunds.")
    buyers: int = Field(description="Members with at least one such order.")
    repeat_buyers: int = Field(description="Members with two or more.")
    repeat_purchase_rate: float | None = Field(description="repeat_buyers / buyers.")
    average_order_value: Money | None = Field(description="revenue / orders.")
    purchase_frequency: float | None = Field(description="orders / buyers.")


class ChurnOut(BaseModel):
    window_days: int = Field(description="How far before `from` the base looks.")
    base: int = Field(description="Members who ordered in the window days before `from`.")
    churned: int = Field(description="Of those, members with no order within the range.")
    churn_rate: float | None = Field(description="churned / base.")


class CohortOut(BaseModel):
    cohort: str = Field(description="Enrolment month, YYYY-MM (members enrolled in the range).")
    members: int = Field(description="Members of the cohort.")
    retention: list[float | None] = Field(
        description="Per month since enrolment (0 = the enrolment month, up to `to`'s month, "
        "at most 36): the share of the cohort with an order in that month."
    )


class TierShareOut(BaseModel):
    tier: str | None = Field(description="Current tier; null: no tier (the ladder has no base).")
    members: int
    share: float | None = Field(description="members / all members at `to`.")


class SegmentOut(BaseModel):
    members: int = Field(description="Members enrolled on or before `to`.")
    active_30d: int
    active_90d: int
    points_issued: int
    points_redeemed: int
    orders: int
    revenue: Money


class ChannelOut(SegmentOut):
    channel: str = Field(description="The member's enrolment channel.")


class TierOut(SegmentOut):
    tier: str | None = Field(description="The member's current tier.")


class CampaignOut(BaseModel):
    rule_id: str = Field(description="The earning rule.")
    awards: int = Field(description="Awards it made within the range.")
    points: int = Field(description="Points those awards gave, less what refunds took back.")
    cost: Money | None = Field(description="points x point_value.")
    orders: int = Field(description="Orders it awarded points on, not fully refunded.")
    revenue: Money = Field(description="Their totals less refunds.")


class RewardOut(BaseModel):
    reward_id: int | None = Field(description="The reward; null: pay with points.")
    name: str | None
    redemptions: int = Field(description="Redemptions within the range, less cancelled ones.")
    points: int = Field(description="Points those redemptions took.")
    cost: Money | None = Field(description="points x point_value.")
    orders: int = Field(description="Orders placed within the range that used its codes.")
    revenue: Money = Field(description="Their totals less refunds.")


class RoiOut(BaseModel):
    attributable_orders: int = Field(
        description="Orders within the range that used a reward code or paid with points."
    )
    attributable_revenue: Money = Field(description="Their totals less refunds.")
    cost: Money | None = Field(description="(redeemed + donated) x point_value.")
    accrual_cost: Money | None = Field(description="issued x point_value.")
    roi: float | None = Field(description="(attributable_revenue - cost) / cost.")
    method: str = Field(description="How the figures above are counted.")


class SummaryOut(BaseModel):
    program_id: int
    currency: str
    from_: date = Field(alias="from", description="First day of the range (UTC).")
    to: date = Field(description="Last day of the range (UTC), included.")
    members: MembersOut
    points: PointsOut
    rates: RatesOut
    liability: LiabilityOut
    orders: OrdersOut
    churn: ChurnOut
    retention: list[CohortOut]
    tier_mix: list[TierShareOut]
    by_channel: list[ChannelOut]
    by_tier: list[TierOut]
    campaigns: list[CampaignOut]
    rewards: list[RewardOut]
    roi: RoiOut
    notes: list[str] = Field(description="Why a figure is null or how it was estimated.")

    model_config = {"populate_by_name": True}
