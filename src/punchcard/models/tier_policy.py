"""A program's tier ladder and how members qualify for it: one row per program, replaced whole."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class TierPolicy(Base):
    __tablename__ = "tier_policies"
    __table_args__ = (
        CheckConstraint("metric IN ('spend', 'points')", name="metric"),
        CheckConstraint(
            "qualification_window IN ('rolling_12_months', 'calendar_year', 'lifetime')",
            name="qualification_window",
        ),
        CheckConstraint("downgrade IN ('one_down', 'recalculate')", name="downgrade"),
        CheckConstraint("grace_days >= 0", name="grace_days"),
    )

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(10))
    qualification_window: Mapped[str] = mapped_column(String(20))
    downgrade: Mapped[str] = mapped_column(String(20))
    grace_days: Mapped[int] = mapped_column(Integer)
    # The ordered tiers as JSON: [{"name", "threshold", "multiplier", "perks", ...}].
    tiers: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
