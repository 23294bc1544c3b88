"""One leg of a transaction; the legs of a transaction always sum to zero."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId


class Posting(Base):
    __tablename__ = "postings"
    __table_args__ = (Index("ix_postings_transaction_id", "transaction_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # no foreign keys: `ledger verify` checks these references (migration a7d2c9e4f613)
    program_id: Mapped[int] = mapped_column(BigId)
    transaction_id: Mapped[int] = mapped_column(BigId)
    member_id: Mapped[int] = mapped_column(BigId)
    account: Mapped[str] = mapped_column(String(30))
    amount: Mapped[int] = mapped_column(BigInteger)
