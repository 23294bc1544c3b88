"""The tables of leaderboards: the boards a program defines, the name each member shows on them
(and whether they show at all), and one score row per board, period and member.

Scores are kept as events arrive, not computed when a list is asked for: the top-N of a period
is then one range of the `ix_leaderboard_scores_rank` index, and a member's rank the count of
the index entries above their score. The member's choice to appear (`visible`) is copied into
every score row, so the index can skip the hidden members without a join.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime

LEADERBOARD_PERIODS = ("week", "month", "all_time")
LEADERBOARD_METRICS = ("points", "challenge")


class Leaderboard(Base):
    __tablename__ = "leaderboards"
    __table_args__ = (
        CheckConstraint(
            "period IN (" + ", ".join(f"'{p}'" for p in LEADERBOARD_PERIODS) + ")", name="period"
        ),
        CheckConstraint(
            "metric IN (" + ", ".join(f"'{m}'" for m in LEADERBOARD_METRICS) + ")", name="metric"
        ),
        # A challenge board names its challenge; a points board names none.
        CheckConstraint(
            "(metric = 'challenge' AND challenge_id IS NOT NULL) "
            "OR (metric = 'points' AND challenge_id IS NULL)",
            name="challenge",
        ),
        Index("ix_leaderboards_program", "program_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    name: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(10))
    metric: Mapped[str] = mapped_column(String(10))
    # No foreign key: the challenge is checked to be the program's when the board is made.
    challenge_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LeaderboardProfile(Base):
    """What a member shows on the program's leaderboards: a name of their own choosing (never
    their e-mail), and whether they appear at all."""

    __tablename__ = "leaderboard_profiles"
    __table_args__ = (
        CheckConstraint("NOT opted_in OR display_name IS NOT NULL", name="opted_in_named"),
    )

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(30), nullable=True)
    opted_in: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LeaderboardScore(Base):
    """A member's score on a board for one period (`period_key`: "2026-W03", "2026-01" or
    "all"). Points boards count whole points; challenge boards count hundredths of the
    challenge's metric, so that sums of amounts stay exact integers on both databases."""

    __tablename__ = "leaderboard_scores"
    __table_args__ = (
        # A member opting in or out: every row of theirs, whatever the board.
        Index("ix_leaderboard_scores_member", "program_id", "member_id"),
    )

    leaderboard_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("leaderboards.id"), primary_key=True
    )
    period_key: Mapped[str] = mapped_column(String(10), primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    score: Mapped[int] = mapped_column(BigInteger, default=0)
    visible: Mapped[bool] = mapped_column(Boolean, default=False)


# The top-N and a member's rank: one range scan, hidden members skipped by the key; the score
# descending so the list (ties by member id, ascending) is read forwards.
Index(
    "ix_leaderboard_scores_rank",
    LeaderboardScore.leaderboard_id,
    LeaderboardScore.period_key,
    LeaderboardScore.visible,
    LeaderboardScore.score.desc(),
    LeaderboardScore.member_id,
)
