"""Journal of lot movements: which transaction created or consumed how much of which lot."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId


class LotEntry(Base):
    __tablename__ = "lot_entries"
    __table_args__ = (
        Index("ix_lot_entries_transaction_id", "transaction_id"),
        Index("ix_lot_entries_lot_id", "lot_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # no foreign keys: `ledger verify` checks these references (migration a7d2c9e4f613)
    program_id: Mapped[int] = mapped_column(BigId)
    member_id: Mapped[int] = mapped_column(BigId)
    transaction_id: Mapped[int] = mapped_column(BigId)
    lot_id: Mapped[int] = mapped_column(BigId)
    amount: Mapped[int] = mapped_column(BigInteger)
