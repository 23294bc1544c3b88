"""Leaderboard request and response bodies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field, model_validator

from punchcard.api.schemas import MAX_ID, Page, Request
from punchcard.leaderboards.domain import Metric, Period, shown
from punchcard.leaderboards.service import Board, Profile, Rank, Standings

Name = Field(min_length=1, max_length=200, examples=["Top savers this week"])
Score = int | Decimal  # whole points, or a challenge's metric (a decimal string)


class LeaderboardCreate(Request):
    name: str = Name
    period: Period = Field(description="week (ISO weeks, UTC), month (UTC) or all_time.")
    metric: Metric = Field(
        Metric.POINTS,
        description="points: net points earned in the period (events, less refunds, plus "
        "bonus points); challenge: the metric of `challenge_id`.",
    )
    challenge_id: int | None = Field(None, strict=True, ge=1, le=MAX_ID)
    active: bool = True


class LeaderboardPatch(Request):
    """Only the name and whether it is active: the period and metric define the scores."""

    name: str | None = Field(None, min_length=1, max_length=200)
    active: bool | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> LeaderboardPatch:
        nulls = sorted(f for f in self.model_fields_set if getattr(self, f) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self


class LeaderboardOut(BaseModel):
    id: int
    name: str
    period: Period
    metric: Metric
    challenge_id: int | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, board: Board) -> LeaderboardOut:
        return cls(
            id=board.id,
            name=board.name,
            period=board.period,
            metric=board.metric,
            challenge_id=board.challenge_id,
            active=board.active,
            created_at=board.created_at,
            updated_at=board.updated_at,
        )


class LeaderboardPage(Page):
    items: list[LeaderboardOut]


class EntryOut(BaseModel):
    rank: int = Field(description="Competition ranking: equal scores share a rank.")
    display_name: str
    score: Score


class StandingsOut(LeaderboardOut):
    period_key: str = Field(examples=["2026-W03", "2026-01", "all"])
    entries: list[EntryOut]

    @classmethod
    def of_standings(cls, found: Standings) -> StandingsOut:
        board = LeaderboardOut.of(found.board)
        return cls(
            **board.model_dump(),
            period_key=found.period_key,
            entries=[
                EntryOut(rank=e.rank, display_name=e.display_name,
                         score=shown(found.board.metric, e.score))
                for e in found.entries
            ],
        )  # fmt: skip


class RankOut(BaseModel):
    leaderboard_id: int
    member_id: int
    period_key: str
    rank: int = Field(description="1 + the visible members who scored more.")
    score: Score
    visible: bool = Field(description="Whether the member appears in the lists (opted in).")
    of: int = Field(description="How many visible members have a score in the period.")

    @classmethod
    def of_rank(cls, found: Rank) -> RankOut:
        return cls(
            leaderboard_id=found.board.id,
            member_id=found.member_id,
            period_key=found.period_key,
            rank=found.rank,
            score=shown(found.board.metric, found.score),
            visible=found.visible,
            of=found.of,
        )


class ProfileIn(Request):
    display_name: str | None = Field(
        None,
        description="2 to 30 characters of the member's choosing; never an e-mail address "
        "or a phone number.",
        examples=["SpeedyShopper"],
    )
    opted_in: bool = Field(description="Appear on the program's leaderboards.")


class ProfileOut(BaseModel):
    member_id: int
    display_name: str | None
    opted_in: bool
    updated_at: datetime | None

    @classmethod
    def of(cls, member_id: int, found: Profile) -> ProfileOut:
        return cls(
            member_id=member_id,
            display_name=found.display_name,
            opted_in=found.opted_in,
            updated_at=found.updated_at,
        )


class RebuildOut(BaseModel):
    leaderboard_id: int
    rows: int = Field(description="Score rows written: one per member and period with points.")
