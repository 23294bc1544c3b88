"""A program is one merchant's loyalty program: the tenant every other row belongs to."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Integer, Numeric, String, Text
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
        CheckConstraint(
            "points_payment_rate IS NULL OR points_payment_rate > 0", name="points_payment_rate"
        ),
        CheckConstraint("point_value IS NULL OR point_value >= 0", name="point_value"),
        CheckConstraint(
            "expected_breakage IS NULL OR (expected_breakage >= 0 AND expected_breakage <= 1)",
            name="expected_breakage",
        ),
        CheckConstraint(
            "points_payment_max_percent > 0 AND points_payment_max_percent <= 100",
            name="points_payment_max_percent",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    points_name: Mapped[str] = mapped_column(String(50), default="points")
    # The points' name in other languages, as JSON {"ka": "ქულები", ...}; `points_name` is
    # the fallback (and the English name).
    points_names: Mapped[str | None] = mapped_column(Text, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    expiry_policy: Mapped[str] = mapped_column(String(20), default="never")
    expiry_value: Mapped[int] = mapped_column(Integer, default=0)
    pending_days: Mapped[int] = mapped_column(Integer, default=0)
    auto_enrol: Mapped[bool] = mapped_column(Boolean, default=True)
    # "Pay with points": how many points make one unit of the currency (None: not offered),
    # and the largest share of an order they may pay.
    points_payment_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    points_payment_max_percent: Mapped[int] = mapped_column(Integer, default=100)
    point_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 6), nullable=True)
    expected_breakage: Mapped[Decimal | None] = mapped_column(Numeric(5, 4), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
