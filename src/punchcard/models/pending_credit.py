"""Points waiting for the return window to close before they can be spent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class PendingCredit(Base):
    __tablename__ = "pending_credits"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_in_range"),
        CheckConstraint("status IN ('pending', 'released', 'voided')", name="status"),
        Index("ix_pending_credits_due", "status", "release_at"),
        Index("ix_pending_credits_transaction_id", "transaction_id", unique=True),
        Index("ix_pending_credits_member", "program_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # no foreign keys: `ledger verify` checks these references (migration a7d2c9e4f613)
    program_id: Mapped[int] = mapped_column(BigId)
    member_id: Mapped[int] = mapped_column(BigId)
    transaction_id: Mapped[int] = mapped_column(BigId)
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    release_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10))
    resolved_transaction_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
