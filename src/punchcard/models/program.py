"""A program is one merchant's loyalty program: the tenant every other row belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class Program(Base):
    __tablename__ = "programs"
    __table_args__ = (
        CheckConstraint(
            "expiry_policy IN ('never', 'days_after_earn', 'end_of_month', 'end_of_year')",
            name="expiry_policy",
        ),
        CheckConstraint("pending_days >= 0", name="pending_days"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    points_name: Mapped[str] = mapped_column(String(50), default="points")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    expiry_policy: Mapped[str] = mapped_column(String(20), default="never")
    expiry_value: Mapped[int] = mapped_column(Integer, default=0)
    pending_days: Mapped[int] = mapped_column(Integer, default=0)
    auto_enrol: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
