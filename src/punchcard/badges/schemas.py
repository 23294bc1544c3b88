"""Badge request and response bodies."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from punchcard.api.schemas import Page, Request
from punchcard.badges.domain import Progress
from punchcard.kit.urls import is_web_url
from punchcard.ledger.domain import MAX_POINTS

Count = Annotated[int, Field(strict=True, ge=1, le=1_000_000)]
Points = Annotated[
    int | None,
    Field(strict=True, ge=1, le=MAX_POINTS, description="Bonus points given with the badge."),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str | None, Field(max_length=10_000)]


def _web_url(value: str | None) -> str | None:
    if value is not None and not is_web_url(value):
        raise ValueError("must be an http(s) address with a host")
    return value


ImageUrl = Annotated[
    str | None,
    Field(max_length=2000, pattern=r"^https?://\S+$", examples=["https://x/b.png"]),
    AfterValidator(_web_url),
]


class OrderCount(Request):
    kind: Literal["order_count"]
    count: Count = Field(description="1: the first order.")


class EventCount(Request):
    kind: Literal["event_count"]
    event_type: str = Field(min_length=1, max_length=100, examples=["review.submitted"])
    count: Count
    sum: Literal["items"] | None = Field(
        None, description='"items": count the items of recycling.dropped_off, not the events.'
    )


class MemberYears(Request):
    kind: Literal["member_years"]
    years: int = Field(strict=True, ge=1, le=100)


class TierReached(Request):
    kind: Literal["tier_reached"]
    tier: str = Field(min_length=1, max_length=50)


class Donations(Request):
    kind: Literal["donations"]
    count: Count


class Manual(Request):
    kind: Literal["manual"]


CriteriaIn = Annotated[
    OrderCount | EventCount | MemberYears | TierReached | Donations | Manual,
    Field(discriminator="kind"),
]


class BadgeCreate(Request):
    name: Name
    description: Description = None
    image_url: ImageUrl = None
    criteria: CriteriaIn
    points: Points = None
    active: bool = True


_REQUIRED = ("name", "criteria", "active")


class BadgePatch(Request):
    name: Name | None = None
    description: Description = None
    image_url: ImageUrl = None
    criteria: CriteriaIn | None = None
    points: Points = None
    active: bool | None = Field(None, description="false retires the badge; earned ones stay.")

    @model_validator(mode="after")
    def _required_stay(self) -> BadgePatch:
        cleared = [f for f in _REQUIRED if f in self.model_fields_set and getattr(self, f) is None]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null")
        return self


class BadgeOut(BaseModel):
    id: int
    name: str
    description: str | None
    image_url: str | None
    criteria: dict[str, Any] = Field(examples=[{"kind": "order_count", "count": 5}])
    points: int | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Any) -> BadgeOut:
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            image_url=row.image_url,
            criteria=json.loads(row.criteria),
            points=row.points,
            active=bool(row.active),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class BadgePage(Page):
    items: list[BadgeOut]


class AwardIn(Request):
    badge_id: int = Field(strict=True, ge=1, le=2**63 - 1)


class EarnedOut(BaseModel):
    badge_id: int
    name: str
    description: str | None
    image_url: str | None
    awarded_at: datetime
    occurred_at: datetime = Field(description="When the awarding event happened.")
    source_id: str = Field(
        description="What earned it: the event's id, or challenge:..., tier-change:<id>, "
        "donation:<redemption id>, job:member-years, admin:<key id>.",
        examples=["evt-123"],
    )
    points: int = Field(description="Bonus points given with it (0: none).")

    @classmethod
    def fields_of(cls, row: Any) -> dict[str, Any]:
        return {name: getattr(row, name) for name in EarnedOut.model_fields}

    @classmethod
    def of(cls, row: Any) -> EarnedOut:
        return cls(**cls.fields_of(row))


class LockedOut(BaseModel):
    badge_id: int
    name: str
    description: str | None
    image_url: str | None
    criteria: dict[str, Any]
    points: int | None
    progress: str = Field(examples=["3 of 5 orders"])
    current: int | None
    target: int | None

    @classmethod
    def of(cls, badge: BadgeOut, progress: Progress) -> LockedOut:
        return cls(
            badge_id=badge.id,
            name=badge.name,
            description=badge.description,
            image_url=badge.image_url,
            criteria=badge.criteria,
            points=badge.points,
            progress=progress.text,
            current=progress.current,
            target=progress.target,
        )


class MemberBadgesOut(BaseModel):
    member_id: int
    earned: list[EarnedOut] = Field(description="Newest first.")
    locked: list[LockedOut] | None = Field(
        None, description="With include=locked: the active badges not earned yet."
    )


class AwardOut(EarnedOut):
    awarded: bool = Field(description="false: the member already had the badge.")
