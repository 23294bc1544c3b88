"""A fitted customer-base model (BG/NBD and Gamma-Gamma) of a program, kept so that a member's
insights can be scored at once instead of refitting the whole history on every request."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class PredictionModel(Base):
    __tablename__ = "prediction_models"
    __table_args__ = (Index("ix_prediction_models_program", "program_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"))
    calibration_end: Mapped[date] = mapped_column(Date)
    customers: Mapped[int] = mapped_column(Integer)
    # The fit as JSON: parameters, log-likelihood, and the holdout check when one was asked.
    result: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
