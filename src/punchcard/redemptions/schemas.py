"""Redemption, checkout and impact request and response bodies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field

from punchcard.api.schemas import MAX_ID, Page, Request
from punchcard.ledger.schemas import PositivePoints
from punchcard.members.domain import Channel
from punchcard.redemptions.checkout import Validation
from punchcard.redemptions.repository import AttendeeRow, DonationSum, RedemptionRow
from punchcard.rewards.domain import CODE_TYPES

CODE_TYPE_NAMES = frozenset(t.value for t in CODE_TYPES)

Money = Annotated[Decimal, Field(ge=0, le=Decimal("1000000000"), decimal_places=2)]
PositiveMoney = Annotated[Decimal, Field(gt=0, le=Decimal("1000000000"), decimal_places=2)]
CodeText = Annotated[str, Field(min_length=1, max_length=64, examples=["7KQ2-M9XD-4TPA-HC3R"])]


class RedeemIn(Request):
    reward_id: int = Field(strict=True, ge=1, le=MAX_ID)
    channel: Channel | None = Field(
        None,
        description="Where the member redeems (web, app, pos, other); a reward limited to "
        "channels checks it.",
    )


class PointsPaymentIn(Request):
    order_total: PositiveMoney = Field(description="The order's total, in the program currency.")
    points: PositivePoints | None = Field(None, description="Points to spend (or `amount`).")
    amount: PositiveMoney | None = Field(None, description="Money to take off (or `points`).")


class ValidateIn(Request):
    code: CodeText
    order_total: Money | None = Field(None, description="To get the discount as an amount.")


class RedeemCodeIn(Request):
    code: CodeText
    order_id: str = Field(min_length=1, max_length=200)


class RedemptionOut(BaseModel):
    id: int
    member_id: int
    reward_id: int | None = Field(description="Null for pay with points.")
    cause_id: int | None
    type: str = Field(examples=["discount_amount"])
    name: str | None = Field(description="The reward's name when it was redeemed.")
    points: int
    value: str | None = Field(description="The benefit as issued: amount, percent, SKU, units.")
    status: str = Field(examples=["issued"])
    code: str | None = Field(
        None,
        description="The code, in the response that issued it only: it is stored hashed and "
        "never shown again.",
    )
    code_hint: str | None = Field(description="The code's last 4 characters.")
    code_expires_at: datetime | None
    code_to_claim: bool = Field(
        False,
        description="A reward granted free (by a challenge) whose code is made when the "
        "member asks for it: `POST .../redemptions/{id}/code`.",
    )
    transaction_id: int | None = Field(
        description="The debit; null for a reward granted free (by a challenge)."
    )
    cancel_transaction_id: int | None
    used_at: datetime | None
    used_order_id: str | None
    cancelled_at: datetime | None
    created_at: datetime
    details: dict[str, Any] | None

    @classmethod
    def of(cls, row: RedemptionRow, code: str | None = None) -> RedemptionOut:
        return cls(
            id=row.id,
            member_id=row.member_id,
            reward_id=row.reward_id,
            cause_id=row.cause_id,
            type=row.type,
            name=(row.details or {}).get("name"),
            points=row.points,
            value=row.value,
            status=row.status,
            code=code,
            code_hint=row.code_hint,
            code_expires_at=row.code_expires_at,
            code_to_claim=(
                code is None
                and row.points == 0
                and row.code_hint is None
                and row.status == "issued"
                and row.type in CODE_TYPE_NAMES
            ),
            transaction_id=row.transaction_id,
            cancel_transaction_id=row.cancel_transaction_id,
            used_at=row.used_at,
            used_order_id=row.used_order_id,
            cancelled_at=row.cancelled_at,
            created_at=row.created_at,
            details=row.details,
        )


class RedemptionPage(Page):
    items: list[RedemptionOut]


class ValidationOut(BaseModel):
    """`valid` false carries only `reason`: `code_invalid` (unknown, expired or cancelled,
    deliberately not told apart) or `code_used`."""

    valid: bool
    reason: str | None = Field(None, examples=["code_invalid"])
    type: str | None = None
    discount: dict[str, Any] | None = Field(
        None,
        description='{"amount"} for fixed amounts and pay with points, {"percent", "amount"?} '
        'for percentages, {"free_shipping": true}, {"sku"} or {"store_credit"}.',
    )
    expires_at: datetime | None = None
    redemption_id: int | None = None

    @classmethod
    def of(cls, result: Validation) -> ValidationOut:
        row = result.redemption
        if row is None:
            return cls(valid=False, reason=result.verdict.value)
        return cls(
            valid=True,
            type=row.type,
            discount=result.discount,
            expires_at=row.code_expires_at,
            redemption_id=row.id,
        )


class AttendeeOut(BaseModel):
    redemption_id: int
    member_id: int
    external_id: str
    name: str | None
    status: str
    reserved_at: datetime

    @classmethod
    def of(cls, row: AttendeeRow) -> AttendeeOut:
        return cls(**row.__dict__)


class AttendeePage(Page):
    reward_id: int
    capacity: int | None = Field(description="The reward's stock (null: no limit).")
    taken: int = Field(description="Places claimed.")
    items: list[AttendeeOut]


class CauseImpactOut(BaseModel):
    cause_id: int
    name: str
    impact_unit: str
    points: int
    units: str = Field(examples=["2.5"])
    donations: int

    @classmethod
    def of(cls, entry: DonationSum, units: str) -> CauseImpactOut:
        return cls(
            cause_id=entry.cause_id,
            name=entry.name,
            impact_unit=entry.impact_unit,
            points=entry.points,
            units=units,
            donations=entry.donations,
        )


class ImpactOut(BaseModel):
    member_id: int
    causes: list[CauseImpactOut]
    total_points: int
    total_donations: int
