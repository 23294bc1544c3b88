"""Ledger request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from punchcard.api.schemas import Page, Request
from punchcard.ledger.domain import MAX_POINTS
from punchcard.ledger.queries import BalanceSummary, TransactionDetail

PositivePoints = Annotated[int, Field(strict=True, gt=0, le=MAX_POINTS)]


def _non_zero(value: int) -> int:
    if value == 0:
        raise ValueError("points must not be zero")
    return value


SignedPoints = Annotated[
    int, Field(strict=True, ge=-MAX_POINTS, le=MAX_POINTS), AfterValidator(_non_zero)
]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
Reference = Annotated[str | None, Field(None, max_length=200)]


class AdjustmentIn(Request):
    points: SignedPoints = Field(description="Positive to credit, negative to debit.")
    reason: Reason
    reference: Reference = None


class SpendIn(Request):
    points: PositivePoints
    reason: Reason
    reference: Reference = Field(None, description="Your order or cart id, for reconciliation.")


class ReversalIn(Request):
    points: PositivePoints | None = Field(None, description="Leave out to reverse what is left.")
    reason: Reason
    reference: Reference = None


class ExpiringOut(BaseModel):
    points: int
    expires_at: datetime


class BalanceOut(BaseModel):
    available: int = Field(description="Spendable now.")
    pending: int = Field(description="Earned, waiting for the return window to close.")
    debt: int = Field(description="Owed after a reversal of spent points; blocks spending.")
    lifetime_earned: int
    expiring: list[ExpiringOut] = Field(
        description="Available points by expiry date, soonest first."
    )

    @classmethod
    def of(cls, summary: BalanceSummary) -> BalanceOut:
        return cls(
            available=summary.available,
            pending=summary.pending,
            debt=summary.debt,
            lifetime_earned=summary.lifetime_earned,
            expiring=[
                ExpiringOut(points=e.points, expires_at=e.expires_at) for e in summary.expiring
            ],
        )


class PostingOut(BaseModel):
    account: str = Field(examples=["member:available"])
    amount: int


class LotMoveOut(BaseModel):
    lot_id: int
    amount: int = Field(description="Positive: points put into the lot; negative: taken out.")


class TransactionOut(BaseModel):
    id: int
    member_id: int
    kind: str = Field(examples=["earn", "spend", "adjust_credit", "expire", "reversal"])
    points: int = Field(description="Size of the transaction; `kind` gives its direction.")
    reason: str
    reference: str | None
    reverses_id: int | None
    occurred_at: datetime
    created_at: datetime
    meta: dict[str, Any] | None
    postings: list[PostingOut]
    lots: list[LotMoveOut]

    @classmethod
    def of(cls, tx: TransactionDetail) -> TransactionOut:
        return cls(
            id=tx.id,
            member_id=tx.member_id,
            kind=tx.kind,
            points=tx.points,
            reason=tx.reason,
            reference=tx.reference,
            reverses_id=tx.reverses_id,
            occurred_at=tx.occurred_at,
            created_at=tx.created_at,
            meta=tx.meta,
            postings=[PostingOut(account=a, amount=n) for a, n in tx.postings],
            lots=[LotMoveOut(lot_id=lot, amount=n) for lot, n in tx.lots],
        )


class TransactionPage(Page):
    items: list[TransactionOut]
