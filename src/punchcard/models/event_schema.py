"""JSON Schemas a program registered for its own `custom.*` event types."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class EventSchema(Base):
    __tablename__ = "event_schemas"
    __table_args__ = (PrimaryKeyConstraint("program_id", "type"),)

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
