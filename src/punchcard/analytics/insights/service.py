"""Customer-base prediction for a program: fit BG/NBD and Gamma-Gamma on its own order history,
keep the fit, and score one member against the kept fit.

Fitting reads every order of the program and takes seconds (minutes for a million members),
so it runs on demand (`POST /v1/analytics/predictions`, `punchcard analytics clv`) and is kept;
a member's insights reuse the kept parameters on the member's own orders, read fresh, which is
one indexed query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from punchcard.analytics.insights import repository as repo
from punchcard.analytics.insights.errors import NotEnoughHistoryError, PredictionSettingsError
from punchcard.analytics.prediction import history, model
from punchcard.analytics.prediction.errors import PredictionInputError
from punchcard.analytics.prediction.model import Scores
from punchcard.members import service as members

# Codes that say the request was fine but the program's data cannot answer it yet.
_DATA_CODES = frozenset(
    {
        "no_orders",
        "too_few_customers",
        "no_repeat_purchases",
        "single_day",
        "fit_failed",
        "too_few_repeat_customers",
    }
)


def translate(exc: PredictionInputError) -> Exception:
    if exc.code in _DATA_CODES:
        return NotEnoughHistoryError(exc.message, code=exc.code)
    return PredictionSettingsError(exc.message, code=exc.code)


@dataclass(frozen=True)
class Analysis:
    """A fit and its check, ready to print or keep; `model_id` is set once it is kept."""

    result: dict[str, Any]
    customers: int
    later_customers: int
    model_id: int | None = None
    created_at: datetime | None = None


def analyse(
    session: Session,
    *,
    program_id: int,
    calibration_end: date,
    holdout_end: date | None,
    today: date,
) -> Analysis:
    """Fit on the orders up to `calibration_end`; with `holdout_end`, compare the model's
    forecast of the following weeks with what the members really bought."""
    if calibration_end > today:
        raise PredictionSettingsError(
            f"calibration_end {calibration_end} is in the future: the model can only learn "
            "from orders already placed",
            code="invalid_value",
            details={"field": "calibration_end"},
        )
    if holdout_end is not None and holdout_end > today:
        raise PredictionSettingsError(
            f"holdout_end {holdout_end} is in the future: the holdout must have happened",
            code="invalid_value",
            details={"field": "holdout_end"},
        )
    customers, days, values = repo.order_history(
        session, program_id, until=holdout_end or calibration_end
    )
    try:
        summary = history.summarise(
            customers, days, values, calibration_end=calibration_end, holdout_end=holdout_end
        )
        fitted = model.fit(summary)
        checked = model.holdout_check(fitted, summary)
    except PredictionInputError as exc:
        raise translate(exc) from exc
    result = model.result_json(fitted, checked)
    return Analysis(result, int(summary.customer.size), summary.later_customers)


def keep(session: Session, *, program_id: int, analysis: Analysis, now: datetime) -> Analysis:
    """Store the fit as the program's current model (the latest kept fit scores members)."""
    model_id = repo.insert_model(
        session,
        program_id=program_id,
        calibration_end=date.fromisoformat(analysis.result["calibration_end"]),
        customers=analysis.customers,
        result=json.dumps({**analysis.result, "later_customers": analysis.later_customers}),
        now=now,
    )
    return Analysis(
        analysis.result, analysis.customers, analysis.later_customers, model_id, created_at=now
    )


def latest(session: Session, *, program_id: int) -> Analysis | None:
    row = repo.latest_model(session, program_id)
    if row is None:
        return None
    stored = json.loads(row.result)
    later = int(stored.pop("later_customers", 0))
    return Analysis(stored, row.customers, later, row.id, row.created_at)


@dataclass(frozen=True)
class Purchases:
    transactions: int
    orders: int
    first: date | None
    last: date | None
    total_value: float


@dataclass(frozen=True)
class Insights:
    member_id: int
    as_of: date
    purchases: Purchases
    recency_days: int | None
    kept: Analysis | None
    scores: Scores | None
    weeks: float
    months: int
    annual_discount_rate: float
    notes: list[str]


def member_insights(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    today: date,
    weeks: float,
    months: int,
    annual_discount_rate: float,
) -> Insights:
    """The member's purchase summary, RFM segment and forecast as of `today`, scored with the
    program's latest kept fit (and its population's RFM cut points)."""
    members.get(session, program_id=program_id, member_id=member_id)
    kept = latest(session, program_id=program_id)
    ids, days, values = repo.order_history(session, program_id, until=today, member_id=member_id)
    notes: list[str] = []
    purchases = Purchases(0, int(ids.size), None, None, float(values.sum()) if values.size else 0.0)
    recency: int | None = None
    scores: model.Scores | None = None
    if ids.size:
        summary = history.summarise(ids, days, values, calibration_end=today)
        first = days.min().astype(date)
        last = days.max().astype(date)
        purchases = Purchases(
            int(summary.x[0]) + 1, int(ids.size), first, last, purchases.total_value
        )
        recency = int(summary.recency_days[0])
        if kept is None:
            notes.append(
                "no prediction model has been fitted for this program yet: "
                "POST /v1/analytics/predictions or run `punchcard analytics clv`"
            )
        else:
            scores = _score(kept, summary, weeks, months, annual_discount_rate)
    else:
        notes.append("the member has not bought anything yet, so there is nothing to score")
    return Insights(
        member_id,
        today,
        purchases,
        recency,
        kept,
        scores,
        weeks,
        months,
        annual_discount_rate,
        notes,
    )


def _score(
    kept: Analysis, summary: history.Summary, weeks: float, months: int, rate: float
) -> model.Scores:
    fitted = model.fitted_from_json(kept.result)
    try:
        return model.score(
            fitted,
            x=summary.x,
            t_x=summary.t_x,
            T=summary.T,
            monetary=summary.monetary,
            recency_days=summary.recency_days,
            frequency=summary.x + 1,
            total_value=summary.total_value,
            weeks=weeks,
            months=months,
            annual_discount_rate=rate,
        )
    except PredictionInputError as exc:
        raise translate(exc) from exc


def first(values: np.ndarray | list[Any] | None) -> Any:
    """The one member's value out of a scored array (scores come vectorised)."""
    if values is None:
        return None
    item = values[0]
    return item.item() if isinstance(item, np.generic) else item
