"""Orders as the loyalty program saw them, with what has been refunded so far."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index, Numeric, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        PrimaryKeyConstraint("order_id", "program_id"),
        Index("ix_orders_member", "member_id", "placed_at"),
    )

    # no foreign keys: `ledger verify` checks these references (migration a7d2c9e4f613)
    program_id: Mapped[int] = mapped_column(BigId)
    order_id: Mapped[str] = mapped_column(String(200))
    member_id: Mapped[int] = mapped_column(BigId)
    event_id: Mapped[int] = mapped_column(BigId)
    transaction_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    lines: Mapped[str] = mapped_column(Text)
    refunded_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    refunded_quantities: Mapped[str] = mapped_column(Text)
    refunded_values: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
