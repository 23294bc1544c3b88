"""Streak request and response bodies."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from punchcard.api.schemas import Page, Request
from punchcard.ledger.domain import MAX_POINTS
from punchcard.streaks.domain import Period, View

Length = Annotated[int, Field(strict=True, ge=1, le=10_000)]
EventType = Annotated[str, Field(min_length=1, max_length=100)]
Events = Annotated[
    list[EventType],
    Field(min_length=1, max_length=20, examples=[["order.placed"]]),
]
Conditions = Annotated[
    dict[str, Any] | None,
    Field(
        description="The rules engine's conditions (channels, stores, min_amount, skus, "
        "categories, tiers, first_order, days_of_week, ...), checked on each event.",
        examples=[{"min_amount": "20.00"}],
    ),
]


class BonusIn(Request):
    length: Length
    points: int = Field(strict=True, ge=1, le=MAX_POINTS)


Bonuses = Annotated[list[BonusIn], Field(max_length=50)]
RepeatEvery = Annotated[
    int | None,
    Field(
        strict=True,
        ge=1,
        le=10_000,
        description="A bonus again every N periods after the last listed length, with its points.",
    ),
]


class StreakCreate(Request):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    period: Period
    events: Events
    conditions: Conditions = None
    bonuses: Bonuses = Field(default_factory=list)
    repeat_every: RepeatEvery = None
    active: bool = True


_REQUIRED = ("name", "period", "events", "bonuses", "active")


class StreakPatch(Request):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    period: Period | None = Field(None, description="Cannot change; accepted if unchanged.")
    events: Events | None = None
    conditions: Conditions = None
    bonuses: Bonuses | None = None
    repeat_every: RepeatEvery = None
    active: bool | None = None

    @model_validator(mode="after")
    def _required_stay(self) -> StreakPatch:
        cleared = [f for f in _REQUIRED if f in self.model_fields_set and getattr(self, f) is None]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null")
        return self


class BonusOut(BaseModel):
    length: int
    points: int


class StreakOut(BaseModel):
    id: int
    name: str
    description: str | None
    period: Period
    events: list[str]
    conditions: dict[str, Any] | None
    bonuses: list[BonusOut]
    repeat_every: int | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Any) -> StreakOut:
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            period=Period(row.period),
            events=json.loads(row.events),
            conditions=None if row.conditions is None else json.loads(row.conditions),
            bonuses=[BonusOut(**b) for b in json.loads(row.bonuses)],
            repeat_every=row.repeat_every,
            active=bool(row.active),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class StreakPage(Page):
    items: list[StreakOut]


class NextBonusOut(BaseModel):
    length: int
    points: int
    periods_to_go: int = Field(description="Qualifying periods still needed, this one included.")


class MemberStreakOut(BaseModel):
    streak_id: int
    name: str
    period: Period
    current_length: int = Field(description="As of now; 0 when broken or never started.")
    counted_this_period: bool
    deadline: datetime | None = Field(
        description="The next qualifying event must come before this, or the streak breaks; "
        "null when there is no streak to keep."
    )
    next_bonus: NextBonusOut | None
    best_length: int
    started_at: datetime | None = Field(description="The first event of the current run.")
    last_period_start: datetime | None

    @classmethod
    def of(cls, row: Any, found: View) -> MemberStreakOut:
        upcoming = None
        if found.next_bonus is not None and found.periods_to_go is not None:
            upcoming = NextBonusOut(
                length=found.next_bonus.length,
                points=found.next_bonus.points,
                periods_to_go=found.periods_to_go,
            )
        return cls(
            streak_id=row.id,
            name=row.name,
            period=Period(row.period),
            current_length=found.length,
            counted_this_period=found.counted,
            deadline=found.deadline,
            next_bonus=upcoming,
            best_length=found.best,
            started_at=found.started_at,
            last_period_start=found.last_period,
        )


class MemberStreaksOut(BaseModel):
    member_id: int
    items: list[MemberStreakOut]
