"""Bodies of the prediction routes: a fit, its holdout check, and a member's insights."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from punchcard.analytics.insights.service import Analysis, Insights, first
from punchcard.api.schemas import Request
from punchcard.kit.dates import Day


class PredictionCreate(Request):
    calibration_end: Day | None = Field(
        None, description="Learn from the orders up to this day (default: today)."
    )
    holdout_end: Day | None = Field(
        None,
        description="Also check the forecast: compare it with the orders after calibration_end "
        "up to this day.",
    )
    save: bool = Field(True, description="Keep the fit as the program's model for insights.")


class BgNbdOut(BaseModel):
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int
    converged: bool


class GammaGammaOut(BaseModel):
    p: float
    q: float
    v: float
    log_likelihood: float
    customers: int = Field(description="Customers with at least one repeat purchase.")


class HoldoutOut(BaseModel):
    predicted: float = Field(description="Repeat purchases (transaction days) the model expected.")
    actual: int = Field(description="Repeat purchases the members made in the holdout.")
    auc: float | None = Field(
        description="How well the forecast ranks who buys again in the holdout (0.5: chance, "
        "1: perfect); null when everyone or no one bought."
    )
    customers: int
    weeks: float


class PredictionOut(BaseModel):
    id: int | None = Field(description="The kept model's id; null when it was not kept.")
    created_at: datetime | None
    calibration_end: date
    holdout_end: date | None
    customers: int = Field(description="Members with a purchase by calibration_end.")
    later_customers: int = Field(description="Members whose first purchase came later.")
    currency: str | None = Field(description="The currency of the order values fitted.")
    other_currency_orders: int = Field(
        0, description="Orders in another currency than the program's, left out."
    )
    bgnbd: BgNbdOut
    gamma_gamma: GammaGammaOut | None
    gamma_gamma_error: str | None = Field(
        None, description="Why spend could not be modelled (then values and CLV are null)."
    )
    holdout: HoldoutOut | None
    rfm: dict[str, Any] = Field(description="The population's RFM cut points.")

    @classmethod
    def of(cls, found: Analysis) -> PredictionOut:
        result = found.result
        return cls(
            id=found.model_id,
            created_at=found.created_at,
            calibration_end=result["calibration_end"],
            holdout_end=result.get("holdout_end"),
            customers=found.customers,
            later_customers=found.later_customers,
            currency=found.currency,
            other_currency_orders=int(result.get("other_currency_orders", 0)),
            bgnbd=result["bgnbd"],
            gamma_gamma=result.get("gamma_gamma"),
            gamma_gamma_error=result.get("gamma_gamma_error"),
            holdout=result.get("holdout"),
            rfm=result["rfm"],
        )


class PurchasesOut(BaseModel):
    transactions: int = Field(description="Days with a purchase (orders of one day count once).")
    orders: int
    first: date | None
    last: date | None
    total_value: str = Field(description="Net of refunds, in the program's currency.")


class RfmOut(BaseModel):
    recency_days: int
    r: int = Field(ge=1, le=5)
    f: int = Field(ge=1, le=5)
    m: int = Field(ge=1, le=5)
    segment: str


class PredictionScoresOut(BaseModel):
    p_alive: float = Field(description="Probability the member is still an active customer.")
    expected_purchases: float = Field(description="Purchases (days) expected in the next weeks.")
    weeks: float
    expected_average_value: float | None = Field(
        description="Expected value of a future purchase (null without a spend model)."
    )
    clv: float | None = Field(description="Discounted value of the member's next months.")
    months: int
    annual_discount_rate: float


class ModelRefOut(BaseModel):
    id: int
    calibration_end: date
    created_at: datetime

    @classmethod
    def of(cls, kept: Analysis | None) -> ModelRefOut | None:
        if kept is None or kept.model_id is None or kept.created_at is None:
            return None
        return cls(
            id=kept.model_id,
            calibration_end=kept.result["calibration_end"],
            created_at=kept.created_at,
        )


class InsightsOut(BaseModel):
    member_id: int
    as_of: date
    purchases: PurchasesOut
    rfm: RfmOut | None
    prediction: PredictionScoresOut | None
    model: ModelRefOut | None
    notes: list[str]

    @classmethod
    def of(cls, found: Insights) -> InsightsOut:
        bought = found.purchases
        scores = found.scores
        kept = found.kept
        rfm = prediction = None
        if scores is not None and found.recency_days is not None:
            rfm = RfmOut(
                recency_days=found.recency_days,
                r=first(scores.r),
                f=first(scores.f),
                m=first(scores.m),
                segment=first(scores.segment),
            )
            prediction = PredictionScoresOut(
                p_alive=first(scores.p_alive),
                expected_purchases=first(scores.expected_purchases),
                weeks=found.weeks,
                expected_average_value=first(scores.expected_value),
                clv=first(scores.clv),
                months=found.months,
                annual_discount_rate=found.annual_discount_rate,
            )
        model_ref = ModelRefOut.of(kept)
        return cls(
            member_id=found.member_id,
            as_of=found.as_of,
            purchases=PurchasesOut(
                transactions=bought.transactions,
                orders=bought.orders,
                first=bought.first,
                last=bought.last,
                total_value=f"{bought.total_value:.2f}",
            ),
            rfm=rfm,
            prediction=prediction,
            model=model_ref,
            notes=found.notes,
        )


class SegmentOut(BaseModel):
    segment: str
    members: int
    share: float = Field(description="Share of the scored members, 0 to 1.")
    average_p_alive: float | None
    expected_purchases: float = Field(description="Sum over the segment, next `weeks` weeks.")
    clv: float | None = Field(description="Sum over the segment (null without a spend model).")


class SegmentsOut(BaseModel):
    as_of: date
    model: ModelRefOut | None
    members_scored: int = Field(description="Members with a purchase up to as_of.")
    weeks: float
    months: int
    segments: list[SegmentOut]
    notes: list[str]


class ScoredMemberOut(BaseModel):
    member_id: int
    external_id: str
    segment: str
    r: int
    f: int
    m: int
    p_alive: float
    expected_purchases: float
    clv: float | None
    last_purchase_days_ago: int


class SegmentMembersOut(BaseModel):
    segment: str
    as_of: date
    items: list[ScoredMemberOut]
