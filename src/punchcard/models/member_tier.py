"""The tier a member holds now; no row means the member holds no tier above the base."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class MemberTier(Base):
    __tablename__ = "member_tiers"
    __table_args__ = (
        PrimaryKeyConstraint("member_id", "program_id"),
        # The re-evaluation job walks the members whose tier's validity has run out. No key
        # holds program_id but the primary key, second: see the migration e5a9c3b7d1f4.
        Index("ix_member_tiers_valid_until", "valid_until"),
    )

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    tier: Mapped[str] = mapped_column(String(50))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    granted: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
