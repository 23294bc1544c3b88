"""Tier request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from punchcard.api.schemas import Page, Request
from punchcard.kit.clock import as_utc
from punchcard.tiers.domain import Downgrade, Metric, Window

Perk = Annotated[str, Field(min_length=1, max_length=200)]
Amount = str | int
LAST_YEAR = 9000  # money as a string with cents (spend), or whole points


class TierIn(Request):
    name: str = Field(min_length=1, max_length=50, examples=["Gold"])
    threshold: Decimal = Field(
        ge=0,
        le=Decimal(10**12),
        description="Spend (a money amount) or points needed; 0 for a tier everyone holds.",
    )
    multiplier: Decimal = Field(
        Decimal(1), ge=1, le=100, decimal_places=2, description="Earn multiplier, e.g. 1.5."
    )
    perks: list[Perk] = Field(default_factory=list, max_length=20)
    invitation_only: bool = Field(False, description="Only a grant gives this tier.")

    @field_validator("name")
    @classmethod
    def _storable(cls, value: str) -> str:
        """The name is stored in text columns (a member's tier, the history): PostgreSQL
        refuses NUL there, and would then refuse every event that reaches the tier."""
        if "\x00" in value:
            raise ValueError("a tier name cannot contain a NUL character")
        return value


class PolicyIn(Request):
    metric: Metric
    window: Window
    downgrade: Downgrade = Downgrade.ONE_DOWN
    grace_days: int = Field(0, strict=True, ge=0, le=3650)
    tiers: list[TierIn] = Field(min_length=1, max_length=20, description="Lowest tier first.")


class TierOut(BaseModel):
    name: str
    threshold: Amount
    multiplier: Decimal
    perks: list[str]
    invitation_only: bool


class PolicyOut(BaseModel):
    metric: Metric
    window: Window
    downgrade: Downgrade
    grace_days: int
    tiers: list[TierOut]
    version: int
    updated_at: datetime


class GrantIn(Request):
    tier: str = Field(min_length=1, max_length=50)
    reason: str = Field(min_length=1, max_length=500)
    valid_until: datetime | None = Field(
        None, description="Leave out for the policy's usual period, counted from now."
    )

    @field_validator("valid_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("valid_until needs a time zone, e.g. 2027-12-31T23:59:59Z")
        moment = as_utc(value)
        if moment.year >= LAST_YEAR:  # grace periods are counted past it
            raise ValueError(f"valid_until must be before the year {LAST_YEAR}")
        return moment


class ProgressOut(BaseModel):
    needed: Amount
    by: date | None = None
    message: str = Field(examples=["spend 82.40 more by 2027-12-31 to reach Gold"])


class MemberTierOut(BaseModel):
    member_id: int
    tier: str | None
    since: datetime | None
    valid_until: datetime | None = Field(description="null: does not expire.")
    in_grace_until: datetime | None = Field(
        None, description="Set while the period has ended and the grace period runs."
    )
    multiplier: Decimal
    perks: list[str]
    metric: Metric
    window: Window
    qualifying_value: Amount = Field(description="The metric over the window ending now.")
    next_tier: str | None
    progress: ProgressOut | None


class TierChangeOut(BaseModel):
    id: int
    change: str = Field(examples=["upgraded", "downgraded", "renewed", "granted"])
    from_tier: str | None
    to_tier: str | None
    metric_value: str | None
    valid_until: datetime | None
    reason: str
    occurred_at: datetime
    created_at: datetime


class TierHistoryPage(Page):
    items: list[TierChangeOut]
