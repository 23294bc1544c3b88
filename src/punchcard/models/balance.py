"""A member's stored balances: a cache of the journal the database keeps from going negative."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, PrimaryKeyConstraint
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId


class Balance(Base):
    __tablename__ = "balances"
    __table_args__ = (
        PrimaryKeyConstraint("member_id", "program_id"),
        CheckConstraint("available >= 0", name="available_not_negative"),
        CheckConstraint("pending >= 0", name="pending_not_negative"),
        CheckConstraint("debt >= 0", name="debt_not_negative"),
        # one B-tree on SQLite, not rows by rowid plus the key (migration e1c6a4b8d2f9)
        {"sqlite_with_rowid": False},
    )

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)
    debt: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime_earned: Mapped[int] = mapped_column(BigInteger, default=0)
