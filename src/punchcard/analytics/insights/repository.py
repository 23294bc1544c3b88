"""Every SQL statement of the prediction service: the order history as arrays, and the fits.

The history is read as three columns of numbers (member, day number, net value) and turned into
numpy arrays a partition at a time: a million members' orders are a few million rows, and
building a Python object per row would cost more than the fit itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Date, Integer, cast, func, insert, literal, select
from sqlalchemy.orm import Session

from punchcard.models import Order
from punchcard.models.prediction_model import PredictionModel

_EPOCH = date(1970, 1, 1)
_PARTITION = 100_000


def _day_number(session: Session) -> ColumnElement[Any]:
    """Days since 1970-01-01 of an order's UTC day, computed by the database."""
    if session.get_bind().dialect.name == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS[.ffffff]' (naive UTC).
        julian = func.julianday(func.substr(Order.placed_at, 1, 10))
        return cast(julian - literal(2440587.5), Integer)
    return cast(Order.placed_at, Date) - literal(_EPOCH, Date)


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def _purchases(program_id: int, currency: str) -> list[ColumnElement[bool]]:
    """The orders that are purchases in the program's money: a fully refunded or cancelled
    order is not one (its status says so even when shipping was never refunded), and an order
    in another currency cannot be added to the others."""
    return [
        Order.program_id == program_id,
        Order.currency == currency,
        Order.status != "refunded",
        Order.total - Order.refunded_amount > 0,
    ]


def order_history(
    session: Session,
    program_id: int,
    *,
    currency: str,
    until: date,
    member_id: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(member ids, days as datetime64[D], net values) of the purchases placed up to the end
    of `until`."""
    net = Order.total - Order.refunded_amount
    query = (
        select(Order.member_id, _day_number(session), net)
        .where(*_purchases(program_id, currency), Order.placed_at < _end_of(until))
        .execution_options(stream_results=True, yield_per=_PARTITION)
    )
    if member_id is not None:
        query = query.where(Order.member_id == member_id)
    members: list[np.ndarray] = []
    days: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for part in session.execute(query).partitions(_PARTITION):
        members.append(np.fromiter((r[0] for r in part), dtype=np.int64, count=len(part)))
        days.append(np.fromiter((r[1] for r in part), dtype=np.int64, count=len(part)))
        values.append(np.fromiter((float(r[2]) for r in part), dtype=np.float64, count=len(part)))
    if not members:
        return (
            np.empty(0, np.int64),
            np.empty(0, "datetime64[D]"),
            np.empty(0, np.float64),
        )
    day_numbers = np.concatenate(days)
    return (
        np.concatenate(members),
        day_numbers.astype("datetime64[D]"),
        np.concatenate(values),
    )


def first_bought_after(session: Session, program_id: int, *, currency: str, day: date) -> int:
    """Members whose first purchase comes after `day`: the model leaves them out."""
    firsts = (
        select(Order.member_id)
        .where(*_purchases(program_id, currency))
        .group_by(Order.member_id)
        .having(func.min(Order.placed_at) >= _end_of(day))
        .subquery()
    )
    return int(session.execute(select(func.count()).select_from(firsts)).scalar_one())


def other_currency_orders(session: Session, program_id: int, *, currency: str, until: date) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(Order)
            .where(
                Order.program_id == program_id,
                Order.currency != currency,
                Order.placed_at < _end_of(until),
            )
        ).scalar_one()
    )


def insert_model(
    session: Session,
    *,
    program_id: int,
    calibration_end: date,
    customers: int,
    result: str,
    now: datetime,
) -> int:
    return int(
        session.execute(
            insert(PredictionModel)
            .values(
                program_id=program_id,
                calibration_end=calibration_end,
                customers=customers,
                result=result,
                created_at=now,
            )
            .returning(PredictionModel.id)
        ).scalar_one()
    )


def latest_model(session: Session, program_id: int) -> PredictionModel | None:
    return session.execute(
        select(PredictionModel)
        .where(PredictionModel.program_id == program_id)
        .order_by(PredictionModel.id.desc())
        .limit(1)
    ).scalar_one_or_none()
