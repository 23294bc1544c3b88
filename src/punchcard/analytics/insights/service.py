"""Customer-base prediction for a program: fit BG/NBD and Gamma-Gamma on its own order history,
keep the fit, and score one member against the kept fit.

Fitting reads every order of the program and takes seconds (minutes for a million members),
so it runs on demand (`POST /v1/analytics/predictions`, `punchcard analytics clv`) and is kept;
a member's insights reuse the kept parameters on the member's own orders, read fresh, which is
one indexed query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
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
from punchcard.programs import service as programs

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
    model_id: int | None = None
    created_at: datetime | None = None

    @property
    def later_customers(self) -> int:
        return int(self.result.get("later_customers", 0))

    @property
    def currency(self) -> str | None:
        """The money the fit's values are in (fits kept before it was recorded: None)."""
        found = self.result.get("currency")
        return None if found is None else str(found)


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
    currency = programs.get_program(session, program_id).currency
    until = holdout_end or calibration_end
    customers, days, values = repo.order_history(
        session, program_id, currency=currency, until=until
    )
    try:
        summary = history.summarise(
            customers, days, values, calibration_end=calibration_end, holdout_end=holdout_end
        )
        fitted = model.fit(summary)
        checked = model.holdout_check(fitted, summary)
    except PredictionInputError as exc:
        raise translate(exc) from exc
    result = model.result_json(fitted, checked) | {
        "currency": currency,
        "later_customers": repo.first_bought_after(
            session, program_id, currency=currency, day=calibration_end
        ),
        "other_currency_orders": repo.other_currency_orders(
            session, program_id, currency=currency, until=until
        ),
    }
    return Analysis(result, int(summary.customer.size))


def keep(session: Session, *, program_id: int, analysis: Analysis, now: datetime) -> Analysis:
    """Store the fit as the program's current model (the latest kept fit scores members)."""
    model_id = repo.insert_model(
        session,
        program_id=program_id,
        calibration_end=date.fromisoformat(analysis.result["calibration_end"]),
        customers=analysis.customers,
        result=json.dumps(analysis.result),
        now=now,
    )
    return Analysis(analysis.result, analysis.customers, model_id, created_at=now)


def latest(session: Session, *, program_id: int) -> Analysis | None:
    row = repo.latest_model(session, program_id)
    if row is None:
        return None
    return Analysis(json.loads(row.result), row.customers, row.id, row.created_at)


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
    currency = programs.get_program(session, program_id).currency
    ids, days, values = repo.order_history(
        session, program_id, currency=currency, until=today, member_id=member_id
    )
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
            scores = score_with(
                kept, summary, weeks, months, annual_discount_rate, currency=currency, notes=notes
            )
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


STALE_AFTER_DAYS = 90


def score_with(
    kept: Analysis,
    summary: history.Summary,
    weeks: float,
    months: int,
    rate: float,
    *,
    currency: str,
    notes: list[str],
) -> model.Scores:
    """Score members with a kept fit. Money figures need the fit's money: after the program
    changed its currency they are left out until a refit. `notes` gets what the caller should
    know about the fit's age."""
    fitted = model.fitted_from_json(kept.result)
    as_of = summary.calibration_end
    fitted_to = date.fromisoformat(kept.result["calibration_end"])
    if (as_of - fitted_to).days > STALE_AFTER_DAYS:
        notes.append(
            f"the model learnt from orders up to {fitted_to}: RFM cut points and parameters "
            "age, and recency grows for everyone; refit it (POST /v1/analytics/predictions)"
        )
    try:
        scores = model.score_summary(
            fitted, summary, weeks=weeks, months=months, annual_discount_rate=rate
        )
    except PredictionInputError as exc:
        raise translate(exc) from exc
    if kept.currency is not None and kept.currency != currency:
        notes.append(
            f"the model's order values are in {kept.currency} and the program now counts in "
            f"{currency}: expected values and CLV are left out until a refit"
        )
        return replace(scores, expected_value=None, clv=None)
    return scores


def first(values: np.ndarray | list[Any] | None) -> Any:
    """The one member's value out of a scored array (scores come vectorised)."""
    if values is None:
        return None
    item = values[0]
    return item.item() if isinstance(item, np.generic) else item
