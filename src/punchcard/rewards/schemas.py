"""Reward request and response bodies."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    Strict,
    StringConstraints,
    model_validator,
)

from punchcard.api.schemas import Page, Request
from punchcard.kit.clock import as_utc
from punchcard.kit.dates import When
from punchcard.members.domain import Channel
from punchcard.rewards.domain import MAX_POINTS_COST, Refusal, RewardType
from punchcard.rewards.service import CauseBrief, MemberCatalog, MemberOffer, RewardRecord

MAX_INT = 2**31 - 1  # stock and limits are 32-bit columns


def _unique(items: list[Any] | None) -> list[Any] | None:
    return None if items is None else list(dict.fromkeys(items))


PointsCost = Annotated[int, Field(strict=True, ge=1, le=MAX_POINTS_COST)]
Moment = Annotated[When, AfterValidator(as_utc)]
TierName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Tiers = Annotated[
    list[TierName] | None,
    Field(min_length=1, max_length=50, description="Only members holding one of these tiers."),
    AfterValidator(_unique),
]
Channels = Annotated[
    list[Channel] | None,
    Field(min_length=1, description="Only redeemable through these channels."),
    AfterValidator(_unique),
]
Value = Annotated[
    Annotated[str, StringConstraints(strict=True, max_length=200)]
    | Annotated[int, Strict()]
    | Annotated[float, Strict()]
    | None,
    Field(
        description="What the type needs: an amount (discount_amount, gift_card), a whole "
        "percentage (discount_percent), a SKU (free_product), a cause id (donation); none for "
        "free_shipping and experience.",
        examples=["5.00"],
    ),
]
Stock = Annotated[
    int | None,
    Field(strict=True, ge=0, le=MAX_INT, description="Null: unlimited; experiences: capacity."),
]
Limit = Annotated[int | None, Field(strict=True, ge=1, le=MAX_INT)]
CodeDays = Annotated[int, Field(strict=True, ge=1, le=3650)]
Details = Annotated[
    dict[str, Any] | None,
    Field(
        description='Experiences: {"kind": "early_access" | "event", "starts_at" (events), '
        '"ends_at", "place", ...}; other types: any object.',
    ),
]


class RewardCreate(Request):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    type: RewardType
    points_cost: PointsCost
    value: Value = None
    stock: Stock = None
    per_member_limit: Limit = None
    valid_from: Moment | None = None
    valid_until: Moment | None = Field(None, description="Exclusive: the reward ends here.")
    tiers: Tiers = None
    channels: Channels = None
    code_valid_days: CodeDays = 90
    details: Details = None
    active: bool = True


# PATCH: null clears a field; these cannot be cleared.
_REQUIRED = ("name", "type", "points_cost", "code_valid_days", "active")


class RewardPatch(Request):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    type: RewardType | None = Field(None, description="Cannot change; accepted if unchanged.")
    points_cost: PointsCost | None = None
    value: Value = None
    stock: Stock = None
    per_member_limit: Limit = None
    valid_from: Moment | None = None
    valid_until: Moment | None = None
    tiers: Tiers = None
    channels: Channels = None
    code_valid_days: CodeDays | None = None
    details: Details = None
    active: bool | None = Field(None, description="false retires the reward.")

    @model_validator(mode="after")
    def _required_stay(self) -> RewardPatch:
        cleared = [f for f in _REQUIRED if f in self.model_fields_set and getattr(self, f) is None]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null")
        return self


class CauseBriefOut(BaseModel):
    id: int
    name: str
    impact_unit: str
    points_per_unit: int
    impact: str = Field(examples=["1 tree per 500 points"])
    active: bool

    @classmethod
    def of(cls, cause: CauseBrief) -> CauseBriefOut:
        return cls(**cause.__dict__)


class RewardOut(BaseModel):
    id: int
    name: str
    description: str | None
    type: RewardType
    points_cost: int
    value: str | None = Field(examples=["5.00"])
    cause_id: int | None
    cause: CauseBriefOut | None = Field(description="Donations: the cause and its impact.")
    stock: int | None
    claimed: int
    remaining: int | None = Field(description="stock - claimed; null: unlimited.")
    per_member_limit: int | None
    valid_from: datetime | None
    valid_until: datetime | None
    tiers: list[str] | None
    channels: list[Channel] | None
    code_valid_days: int
    details: dict[str, Any] | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def fields_of(cls, record: RewardRecord) -> dict[str, Any]:
        row = record.row
        loaded = {f: _json(getattr(row, f)) for f in ("tiers", "channels", "details")}
        names = [n for n in RewardOut.model_fields if n not in ("cause", "remaining", *loaded)]
        return {
            **{n: getattr(row, n) for n in names},
            **loaded,
            "active": bool(row.active),
            "cause": None if record.cause is None else CauseBriefOut.of(record.cause),
            "remaining": record.remaining,
        }

    @classmethod
    def of(cls, record: RewardRecord) -> RewardOut:
        return cls(**cls.fields_of(record))


def _json(raw: str | None) -> Any:
    return None if raw is None else json.loads(raw)


class RewardPage(Page):
    items: list[RewardOut]


class MemberRewardOut(RewardOut):
    redeemable: bool
    reasons: list[Refusal] = Field(
        description="Why not, most fundamental first; the first is what a redemption answers."
    )

    @classmethod
    def of_offer(cls, offer: MemberOffer) -> MemberRewardOut:
        return cls(
            **cls.fields_of(offer.reward), redeemable=not offer.reasons, reasons=offer.reasons
        )


class MemberRewardList(BaseModel):
    member_id: int
    available: int = Field(description="Points the member can spend now.")
    debt: int = Field(description="Owed after a reversal; blocks every redemption.")
    tier: str | None
    items: list[MemberRewardOut]

    @classmethod
    def of(cls, member_id: int, catalog: MemberCatalog) -> MemberRewardList:
        return cls(
            member_id=member_id,
            available=catalog.available,
            debt=catalog.debt,
            tier=catalog.tier,
            items=[MemberRewardOut.of_offer(o) for o in catalog.offers],
        )
