"""Challenges (missions), each member's runs at them, the events that moved a run, and the
completions: a completion's key (challenge, member, run) makes a second one impossible."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class Challenge(Base):
    __tablename__ = "challenges"
    __table_args__ = (Index("ix_challenges_program", "program_id", "active", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Steps, window, repetition, eligibility and reward, as the API takes them (JSON): read
    # whole on every event, parsed by the same code that checked them on the way in.
    definition: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChallengeRun(Base):
    """One member's attempt at a challenge: the step reached and the progress in it. A
    repeatable challenge gets a new run after each completion."""

    __tablename__ = "challenge_runs"
    __table_args__ = (
        PrimaryKeyConstraint("program_id", "member_id", "challenge_id", "run"),
        CheckConstraint("run >= 1", name="run"),
        CheckConstraint("step >= 0", name="step"),
        CheckConstraint("progress >= 0", name="progress"),
        Index("ix_challenge_runs_challenge", "challenge_id", "member_id"),
    )

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    challenge_id: Mapped[int] = mapped_column(BigId, ForeignKey("challenges.id"))
    run: Mapped[int] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(Integer)
    progress: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    # Completions before this run (its own not counted): what max_completions is checked on.
    completions: Mapped[int] = mapped_column(Integer, default=0)
    joined: Mapped[bool] = mapped_column(Boolean, default=False)  # opted in
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChallengeContribution(Base):
    """An event that moved a run, and by how much: a refund of a counted order finds its
    contribution here to take it out again."""

    __tablename__ = "challenge_contributions"
    __table_args__ = (
        PrimaryKeyConstraint("program_id", "member_id", "challenge_id", "run", "source_id"),
        CheckConstraint("amount >= 0 AND taken >= 0 AND taken <= amount", name="amount"),
        Index("ix_challenge_contributions_order", "program_id", "member_id", "order_id"),
    )

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    challenge_id: Mapped[int] = mapped_column(BigId, ForeignKey("challenges.id"))
    run: Mapped[int] = mapped_column(Integer)
    source_id: Mapped[str] = mapped_column(String(200))
    order_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    step: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    taken: Mapped[Decimal] = mapped_column(Numeric(16, 2))  # what refunds took out again
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChallengeCompletion(Base):
    """A run completed, once: the primary key is the guard, whatever the callers do. A refund
    that undoes the completion deletes the row (and reopens the run), so the run can be
    completed again, once, with new events."""

    __tablename__ = "challenge_completions"
    __table_args__ = (
        PrimaryKeyConstraint("program_id", "member_id", "challenge_id", "run"),
        Index("ix_challenge_completions_challenge", "challenge_id", "completed_at"),
    )

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    challenge_id: Mapped[int] = mapped_column(BigId, ForeignKey("challenges.id"))
    run: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the completing event's time
    source_id: Mapped[str] = mapped_column(String(200))  # the completing event
    # What was given: {"points": n, "transaction_id"} | {"badge_id", "awarded"} |
    # {"reward_id", "redemption_id"} or {"reward_id", "error"} (JSON).
    reward: Mapped[str] = mapped_column(Text)
    # The bonus points' ledger credit: what a refund undoing the completion reverses.
    transaction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), nullable=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
