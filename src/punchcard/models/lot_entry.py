"""Journal of lot movements: which transaction created or consumed how much of which lot."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index
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
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    transaction_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_transactions.id"))
    lot_id: Mapped[int] = mapped_column(BigId, ForeignKey("lots.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
