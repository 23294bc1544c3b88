"""The tables of referrals: a program's settings, each member's code, the referrals made with
those codes (with the fraud checks' verdict), and the hashed signals fraud checks compare."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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

REFERRAL_STATUSES = ("pending", "review", "rewarded", "voided", "rejected")
SIGNAL_KINDS = ("device", "payment", "address")


class ReferralSettings(Base):
    """One row per program; no row means referrals are off."""

    __tablename__ = "referral_settings"
    __table_args__ = (
        CheckConstraint("referrer_points >= 0 AND referee_points >= 0", name="points"),
        CheckConstraint("min_order_total >= 0", name="min_order_total"),
        CheckConstraint(
            "(max_referrals_per_week IS NULL OR max_referrals_per_week > 0)"
            " AND (max_referees_per_device IS NULL OR max_referees_per_device > 0)"
            " AND (max_referees_per_address IS NULL OR max_referees_per_address > 0)",
            name="limits",
        ),
    )

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)
    referrer_points: Mapped[int] = mapped_column(BigInteger)
    referee_points: Mapped[int] = mapped_column(BigInteger)
    min_order_total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    link_template: Mapped[str | None] = mapped_column(String(500), nullable=True)
    max_referrals_per_week: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_referees_per_device: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_referees_per_address: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReferralCode(Base):
    """A member's one code in a program, made the first time it is asked for."""

    __tablename__ = "referral_codes"
    __table_args__ = (
        UniqueConstraint("program_id", "code"),
        UniqueConstraint("program_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    code: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Referral(Base):
    """A referee enrolled with a referrer's code. The amounts are those of the settings when
    the referee enrolled: a later change of settings does not change a promise made."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in REFERRAL_STATUSES) + ")", name="status"
        ),
        CheckConstraint("referrer_id <> referee_id", name="not_self"),
        CheckConstraint("referrer_points >= 0 AND referee_points >= 0", name="points"),
        UniqueConstraint("program_id", "referee_id", "referrer_id"),
        Index("ix_referrals_referrer", "program_id", "referrer_id", "created_at"),
        Index("ix_referrals_status", "program_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    referrer_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    referee_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    code: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10))
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of fraud reason codes
    matched: Mapped[str] = mapped_column(Text)  # JSON: reason code -> what matched
    referrer_points: Mapped[int] = mapped_column(BigInteger)
    referee_points: Mapped[int] = mapped_column(BigInteger)
    min_order_total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    qualifying_order_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    qualifying_event_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    qualified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    referrer_transaction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), nullable=True
    )
    referee_transaction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), nullable=True
    )
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rewarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberSignal(Base):
    """A device id, payment fingerprint or address seen for a member, only as a keyed hash:
    enough to tell that two members share one, never enough to read it back."""

    __tablename__ = "member_signals"
    __table_args__ = (
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in SIGNAL_KINDS) + ")", name="kind"),
        UniqueConstraint("program_id", "member_id", "kind", "hash"),
        Index("ix_member_signals_hash", "program_id", "kind", "hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(10))
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
