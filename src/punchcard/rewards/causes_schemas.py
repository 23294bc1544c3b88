"""Cause request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from punchcard.api.schemas import Page, Request
from punchcard.rewards.causes_service import CauseRecord
from punchcard.rewards.domain import MAX_POINTS_COST, CauseTotals, units_text

PointsPerUnit = Annotated[
    int,
    Field(strict=True, ge=1, le=MAX_POINTS_COST, description="Points that buy one impact unit."),
]
Unit = Annotated[str, Field(min_length=1, max_length=50, examples=["tree"])]


class CauseCreate(Request):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    impact_unit: Unit
    points_per_unit: PointsPerUnit
    active: bool = True


class CausePatch(Request):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    impact_unit: Unit | None = None
    points_per_unit: PointsPerUnit | None = None
    active: bool | None = Field(None, description="false retires the cause.")

    @model_validator(mode="after")
    def _required_stay(self) -> CausePatch:
        required = ("name", "impact_unit", "points_per_unit", "active")
        cleared = [f for f in required if f in self.model_fields_set and getattr(self, f) is None]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null")
        return self


class TotalsOut(BaseModel):
    points_donated: int
    impact_units: str = Field(
        description="Impact units, summed as each donation recorded them (to the hundredth).",
        examples=["12.5"],
    )
    donations: int
    donors: int = Field(description="Distinct members.")

    @classmethod
    def of(cls, totals: CauseTotals) -> TotalsOut:
        return cls(
            points_donated=totals.points,
            impact_units=units_text(totals.impact_units),
            donations=totals.donations,
            donors=totals.donors,
        )


class CauseOut(BaseModel):
    id: int
    name: str
    description: str | None
    impact_unit: str
    points_per_unit: int
    impact: str = Field(examples=["1 tree per 500 points"])
    active: bool
    totals: TotalsOut = Field(description="Completed donations of every member.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: CauseRecord) -> CauseOut:
        row = record.row
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            impact_unit=row.impact_unit,
            points_per_unit=row.points_per_unit,
            impact=record.impact,
            active=bool(row.active),
            totals=TotalsOut.of(record.totals),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class CausePage(Page):
    items: list[CauseOut]
