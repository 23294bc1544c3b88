"""Tier history: every upgrade, downgrade, renewal and grant, never edited afterwards."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class TierChange(Base):
    __tablename__ = "tier_changes"
    __table_args__ = (
        CheckConstraint(
            "change IN ('upgraded', 'downgraded', 'renewed', 'granted', 'revoked')",
            name="change",
        ),
        Index("ix_tier_changes_member", "program_id", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    change: Mapped[str] = mapped_column(String(20))
    from_tier: Mapped[str | None] = mapped_column(String(50), nullable=True)
    to_tier: Mapped[str | None] = mapped_column(String(50), nullable=True)
    # The qualifying metric (money or points, as text) the decision was made on, if any.
    metric_value: Mapped[str | None] = mapped_column(String(40), nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str] = mapped_column(String(500))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
