"""The rewards catalog: what points buy, at what cost, for whom, and how many are left."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime

REWARD_TYPES = (
    "discount_amount",
    "discount_percent",
    "free_shipping",
    "free_product",
    "experience",
    "donation",
    "gift_card",
)


class Reward(Base):
    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("type IN (" + ", ".join(f"'{t}'" for t in REWARD_TYPES) + ")", name="type"),
        CheckConstraint("points_cost > 0", name="points_cost"),
        # The database refuses to hand out more than the stock, whatever the code does.
        CheckConstraint("stock IS NULL OR (claimed >= 0 AND claimed <= stock)", name="stock"),
        CheckConstraint("per_member_limit IS NULL OR per_member_limit > 0", name="per_member"),
        Index("ix_rewards_program", "program_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    type: Mapped[str] = mapped_column(String(20))
    points_cost: Mapped[int] = mapped_column(BigInteger)
    # What the type needs, as text: an amount, a percentage, a SKU, or a cause id.
    value: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cause_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("causes.id"), nullable=True)
    stock: Mapped[int | None] = mapped_column(Integer, nullable=True)
    claimed: Mapped[int] = mapped_column(Integer, default=0)
    per_member_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    tiers: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list of tier names
    channels: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list of channels
    # How long an issued code stays usable, in days.
    code_valid_days: Mapped[int] = mapped_column(Integer, default=90)
    # Experiences: {"kind": "early_access" | "event", "starts_at", "place", ...} as JSON.
    details: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
