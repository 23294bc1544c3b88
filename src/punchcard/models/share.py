"""Social sharing: a program's settings, members' share links, the clicks on them, and the
sign-ups and orders attributed to them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime

EARN_ON = ("share", "click")
EARN_STATUSES = ("earned", "awaiting_click", "daily_cap_reached", "no_points")
ATTRIBUTION_KINDS = ("signup", "order")
ATTRIBUTION_STATUSES = ("attributed", "rejected")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class ShareSettings(Base):
    """One row per program that has set sharing up. `salt` is today's salt of the visitor
    hashes (clicks are counted once per visitor per day); replacing it each day is what makes
    yesterday's hashes unlinkable to an address."""

    __tablename__ = "share_settings"
    __table_args__ = (
        CheckConstraint("points_per_share >= 0", name="points_per_share"),
        CheckConstraint("daily_cap_per_platform > 0", name="daily_cap"),
        CheckConstraint(_one_of("earn_on", EARN_ON), name="earn_on"),
        CheckConstraint("attribution_days > 0", name="attribution_days"),
        # active sharing always has a home page: share links never lead to any other site
        CheckConstraint("NOT active OR target_url IS NOT NULL", name="active_target"),
    )

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)
    points_per_share: Mapped[int] = mapped_column(Integer)
    daily_cap_per_platform: Mapped[int] = mapped_column(Integer)
    earn_on: Mapped[str] = mapped_column(String(10))
    platforms: Mapped[str] = mapped_column(Text)  # JSON list of platform names
    target_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    utm_campaign: Mapped[str] = mapped_column(String(100))
    attribution_days: Mapped[int] = mapped_column(Integer)
    salt: Mapped[str | None] = mapped_column(String(64), nullable=True)
    salt_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ShareLink(Base):
    """One link per member, platform and target page: sharing it again reuses it. It earns
    points at most once (`earned_at`), counted against the cap of `earn_day`."""

    __tablename__ = "share_links"
    __table_args__ = (
        UniqueConstraint("token"),
        UniqueConstraint("program_id", "member_id", "platform", "target_hash"),
        CheckConstraint("points >= 0", name="points"),
        CheckConstraint("share_count >= 0", name="share_count"),
        CheckConstraint(_one_of("earn_status", EARN_STATUSES), name="earn_status"),
        Index("ix_share_links_cap", "program_id", "member_id", "platform", "earn_day"),
        Index("ix_share_links_member", "program_id", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    token: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(20))
    target_url: Mapped[str] = mapped_column(String(2000))
    target_hash: Mapped[str] = mapped_column(String(64))  # sha256 of target_url, for the key
    share_count: Mapped[int] = mapped_column(Integer)
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the latest recorded share
    share_day: Mapped[date] = mapped_column(Date)  # its UTC day: the cap a click earns under
    earn_status: Mapped[str] = mapped_column(String(20))
    points: Mapped[int] = mapped_column(Integer)
    earned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    earn_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ShareClick(Base):
    """A browser followed a share link. No address or user agent is kept: only a hash of them
    with the program's salt of the day, to count unique visitors."""

    __tablename__ = "share_clicks"
    __table_args__ = (Index("ix_share_clicks_share", "share_id", "clicked_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))  # the sharer
    share_id: Mapped[int] = mapped_column(BigId, ForeignKey("share_links.id"))
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    visitor_hash: Mapped[str] = mapped_column(String(64))


class ShareAttribution(Base):
    """A sign-up through a share link (`member_id` the new member), or an order of such a
    member within the attribution window. `order_id` is '' for a sign-up, so the unique key
    allows one sign-up row per member and one row per order."""

    __tablename__ = "share_attributions"
    __table_args__ = (
        UniqueConstraint("program_id", "member_id", "kind", "order_id"),
        CheckConstraint(_one_of("kind", ATTRIBUTION_KINDS), name="kind"),
        CheckConstraint(_one_of("status", ATTRIBUTION_STATUSES), name="status"),
        Index("ix_share_attributions_share", "share_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    share_id: Mapped[int] = mapped_column(BigId, ForeignKey("share_links.id"))
    sharer_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(30), nullable=True)
    order_id: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    refunded: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
