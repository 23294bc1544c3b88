"""Points a budgeted campaign rule has given out: one row per rule, locked while awarding, so
two events can never both spend the last of a budget."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId


class RuleBudget(Base):
    __tablename__ = "rule_budgets"
    __table_args__ = (PrimaryKeyConstraint("program_id", "rule_id"),)

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    rule_id: Mapped[str] = mapped_column(String(64))
    spent: Mapped[int] = mapped_column(BigInteger)
