"""Stored rule set versions of a program; the highest version is in force."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, PrimaryKeyConstraint, Text
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class RuleSetVersion(Base):
    __tablename__ = "rule_sets"
    __table_args__ = (PrimaryKeyConstraint("program_id", "version"),)

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
