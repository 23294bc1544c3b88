"""Members of a program, findable by every identifier a store or a till may hold."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("external_id", "program_id"),
        UniqueConstraint("card_number", "program_id"),
        UniqueConstraint("qr_token"),
        Index("ix_members_email", "email"),
        Index("ix_members_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    birthday: Mapped[date | None] = mapped_column(Date, nullable=True)
    channel: Mapped[str] = mapped_column(String(10))
    card_number: Mapped[str] = mapped_column(String(20))
    qr_token: Mapped[str] = mapped_column(String(40))
    # The language the member chose in the portal (a tag such as "ka"); None: the browser's.
    locale: Mapped[str | None] = mapped_column(String(10), nullable=True)
    # Whether the member agreed to marketing messages; None: never asked.
    marketing_consent: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # Portal sessions signed in before this instant are over (sign-out ends them everywhere).
    sessions_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
