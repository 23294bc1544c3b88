"""Streaks a program defines, each member's run of consecutive periods, and the bonuses paid."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class Streak(Base):
    __tablename__ = "streaks"
    __table_args__ = (
        CheckConstraint("period IN ('day', 'week')", name="period"),
        CheckConstraint("repeat_every IS NULL OR repeat_every > 0", name="repeat_every"),
        Index("ix_streaks_program", "program_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    period: Mapped[str] = mapped_column(String(10))
    events: Mapped[str] = mapped_column(Text)  # JSON list of qualifying event types
    conditions: Mapped[str | None] = mapped_column(Text, nullable=True)  # rule conditions, JSON
    bonuses: Mapped[str] = mapped_column(Text)  # JSON [{"length", "points"}], by length
    repeat_every: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberStreak(Base):
    """A member's current run: its length, the last period counted, and the best run so far."""

    __tablename__ = "member_streaks"
    __table_args__ = (
        PrimaryKeyConstraint("program_id", "member_id", "streak_id"),
        CheckConstraint("current_length >= 1", name="current_length"),
        CheckConstraint("best_length >= current_length", name="best_length"),
    )

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    streak_id: Mapped[int] = mapped_column(BigId, ForeignKey("streaks.id"))
    current_length: Mapped[int] = mapped_column(Integer)
    best_length: Mapped[int] = mapped_column(Integer)
    last_period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StreakBonus(Base):
    """A bonus paid for one period of one member's streak: the key makes paying it twice
    impossible, even by two transactions at once."""

    __tablename__ = "streak_bonuses"
    __table_args__ = (
        PrimaryKeyConstraint("program_id", "member_id", "streak_id", "period_start"),
        CheckConstraint("points > 0", name="points"),
    )

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    streak_id: Mapped[int] = mapped_column(BigId, ForeignKey("streaks.id"))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    length: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(BigInteger)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime)
