"""Referral request and response bodies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from punchcard.api.schemas import Page, Request
from punchcard.referrals.domain import MAX_LIMIT, MAX_POINTS, Reason, Settings, Status
from punchcard.referrals.repository import ReferralRow
from punchcard.referrals.service import Summary

Limit = int | None


class SettingsIn(Request):
    """The whole settings (a PUT replaces them; fields left out take their defaults)."""

    active: bool = Field(description="New referrals are accepted only while active.")
    referrer_points: int = Field(0, strict=True, ge=0, le=MAX_POINTS)
    referee_points: int = Field(0, strict=True, ge=0, le=MAX_POINTS)
    min_order_total: Decimal = Field(
        Decimal(0),
        ge=0,
        le=Decimal("1e10"),
        max_digits=14,
        decimal_places=2,
        description="The referee's first order of at least this total rewards both sides.",
    )
    link_template: str | None = Field(
        None,
        max_length=500,
        examples=["https://shop.example/?ref={code}"],
        description="The member's referral link: `{code}` is replaced by their code.",
    )
    max_referrals_per_week: Limit = Field(
        None, strict=True, ge=1, le=MAX_LIMIT, description="Per referrer; more are flagged."
    )
    max_referees_per_device: Limit = Field(
        None,
        strict=True,
        ge=1,
        le=MAX_LIMIT,
        description="A device seen with more referees than this flags the next one.",
    )
    max_referees_per_address: Limit = Field(
        None,
        strict=True,
        ge=1,
        le=MAX_LIMIT,
        description="An address seen with more referees than this flags the next one.",
    )

    def settings(self) -> Settings:
        return Settings(**self.model_dump())


class SettingsOut(BaseModel):
    active: bool
    referrer_points: int
    referee_points: int
    min_order_total: str
    link_template: str | None
    max_referrals_per_week: int | None
    max_referees_per_device: int | None
    max_referees_per_address: int | None
    updated_at: datetime | None

    @classmethod
    def of(cls, settings: Settings) -> SettingsOut:
        values = {**settings.__dict__, "min_order_total": f"{settings.min_order_total:.2f}"}
        return cls.model_validate(values)


class MemberReferralOut(BaseModel):
    member_id: int
    code: str = Field(description="8 characters, Crockford base32; the same on every call.")
    link: str | None = Field(description="The settings' link template with the code.")
    active: bool
    referrer_points: int = Field(description="What the member gets per rewarded referral.")
    referee_points: int = Field(description="What the friend gets.")
    min_order_total: str
    referred: int = Field(description="Referrals made with the code, whatever their status.")
    pending: int = Field(description="Waiting for the friend's first qualifying order.")
    review: int = Field(description="Flagged, waiting for the program's review.")
    rewarded: int
    voided: int
    rejected: int
    points_earned: int = Field(description="Points given to the member for rewarded referrals.")

    @classmethod
    def of(cls, found: Summary) -> MemberReferralOut:
        stats, settings = found.stats, found.settings
        return cls(
            member_id=found.member_id,
            code=found.code,
            link=found.link,
            active=settings.active,
            referrer_points=settings.referrer_points,
            referee_points=settings.referee_points,
            min_order_total=f"{settings.min_order_total:.2f}",
            referred=sum(stats[s.value] for s in Status),
            pending=stats[Status.PENDING.value],
            review=stats[Status.REVIEW.value],
            rewarded=stats[Status.REWARDED.value],
            voided=stats[Status.VOIDED.value],
            rejected=stats[Status.REJECTED.value],
            points_earned=stats["points"],
        )


class SignalsIn(Request):
    device_id: str | None = Field(None, min_length=1, max_length=200)
    payment_fingerprint: str | None = Field(
        None, min_length=1, max_length=200, description="The payment provider's card fingerprint."
    )
    address: str | None = Field(None, min_length=1, max_length=500)


class SignalsOut(BaseModel):
    member_id: int
    recorded: list[str] = Field(description="The kinds stored (hashed): device, payment, address.")


class ReferralOut(BaseModel):
    id: int
    status: Status
    referrer_id: int
    referee_id: int
    code: str
    reasons: list[Reason] = Field(description="Fraud checks that flagged it; empty when clean.")
    matched: dict[str, Any] = Field(description="Per reason, what matched (never raw signals).")
    referrer_points: int
    referee_points: int
    min_order_total: str
    qualifying_order_id: str | None
    qualifying_event_id: str | None
    qualified_at: datetime | None
    referrer_transaction_id: int | None
    referee_transaction_id: int | None
    review_note: str | None
    reviewed_at: datetime | None
    rewarded_at: datetime | None
    voided_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ReferralRow) -> ReferralOut:
        values = {**row.__dict__, "min_order_total": f"{row.min_order_total:.2f}"}
        return cls.model_validate(values)


class ReferralPage(Page):
    items: list[ReferralOut]


class ApproveIn(Request):
    note: str | None = Field(None, min_length=1, max_length=500)


class RejectIn(Request):
    reason: str = Field(min_length=1, max_length=500)
