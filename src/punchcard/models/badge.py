"""Badges a program defines, and the ones each member earned (once, with what earned them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
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

BADGE_KINDS = ("order_count", "event_count", "member_years", "tier_reached", "donations", "manual")


class Badge(Base):
    __tablename__ = "badges"
    __table_args__ = (
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in BADGE_KINDS) + ")", name="kind"),
        CheckConstraint("points IS NULL OR points > 0", name="points"),
        Index("ix_badges_program", "program_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    image_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    # The criteria of the kind as JSON: {"kind": "order_count", "count": 5}, ...
    criteria: Mapped[str] = mapped_column(Text)
    points: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberBadge(Base):
    """One row per badge a member earned; the unique key makes a second award impossible,
    whichever path (event, job, challenge, admin) tries it and however many at once."""

    __tablename__ = "member_badges"
    __table_args__ = (
        UniqueConstraint("program_id", "badge_id", "member_id"),
        CheckConstraint("points >= 0", name="points"),
        Index("ix_member_badges_member", "program_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    badge_id: Mapped[int] = mapped_column(BigId, ForeignKey("badges.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    # What earned it: an event's source id, "challenge:...", "job:member-years",
    # "tier-change:<id>", "donation:<redemption id>" or "admin:<key id>".
    source_id: Mapped[str] = mapped_column(String(200))
    points: Mapped[int] = mapped_column(BigInteger)  # bonus points given with it (0: none)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime)
