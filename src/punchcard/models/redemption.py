"""What a member turned points into: the debit, the claimed stock and the benefit issued.

A code is never stored: only its SHA-256 (to find it at checkout) and its last characters
(to show the member which code is which)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class Redemption(Base):
    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('issued', 'used', 'expired', 'cancelled', 'reserved', 'completed')",
            name="status",
        ),
        # 0 only for a reward granted free (a challenge's), which has no ledger debit either.
        CheckConstraint(
            "(points > 0 AND transaction_id IS NOT NULL) "
            "OR (points = 0 AND transaction_id IS NULL)",
            name="points",
        ),
        UniqueConstraint("code_hash"),
        Index("ix_redemptions_member", "program_id", "member_id", "id"),
        Index("ix_redemptions_reward", "reward_id", "member_id"),
        Index("ix_redemptions_cause", "cause_id", "member_id"),
        Index("ix_redemptions_expiry", "status", "code_expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    # None for "pay with points", which buys an amount off an order rather than a reward.
    reward_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("rewards.id"), nullable=True)
    cause_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("causes.id"), nullable=True)
    type: Mapped[str] = mapped_column(String(20))
    points: Mapped[int] = mapped_column(BigInteger)
    # The benefit as issued (amount, percentage, SKU, impact units), kept if the reward changes.
    value: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    transaction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), nullable=True
    )
    cancel_transaction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), nullable=True
    )
    code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    code_hint: Mapped[str | None] = mapped_column(String(8), nullable=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    used_order_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    details: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON snapshot
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
