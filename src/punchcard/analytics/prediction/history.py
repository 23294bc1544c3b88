"""From order rows to the per-customer summary the models need (x, t_x, T, spend).

The literature's conventions (Fader, Hardie & Lee 2005), which the published CDNOW figures
depend on: all orders of one customer on one calendar day are ONE transaction (their values
summed), because a second order minutes later is a completed basket, not a second visit;
`x` counts the repeat transaction days after the first one; times are in weeks, `t_x` from
the first to the last transaction day and `T` from the first transaction day to the end of the
calibration period. Only customers who bought by the calibration end are modelled; those who
first bought later are counted (`later_customers`) so a report can say who was left out.

Everything is vectorised (one sort, then `np.unique`/`np.add.reduceat`): a million customers
with a few orders each summarise in a couple of seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from punchcard.analytics.prediction.errors import BAD_HOLDOUT, NO_ORDERS, PredictionInputError

DAYS_PER_WEEK = 7.0


@dataclass(frozen=True)
class Summary:
    customer: np.ndarray  # int64, sorted, one per calibration customer
    x: np.ndarray  # float64, repeat transaction days in calibration
    t_x: np.ndarray  # float64 weeks, last - first transaction day
    T: np.ndarray  # float64 weeks, calibration_end - first transaction day
    monetary: np.ndarray  # float64, mean value of the repeat transaction days (0 where x == 0)
    total_value: np.ndarray  # float64, every calibration transaction day's value
    recency_days: np.ndarray  # float64, calibration_end - last transaction day, in days
    holdout_x: np.ndarray | None  # transaction days in (calibration_end, holdout_end]
    holdout_weeks: float | None
    calibration_end: date
    holdout_end: date | None
    later_customers: int  # first purchase after calibration_end: not modelled

    @property
    def customers(self) -> int:
        return int(self.customer.size)

    @property
    def frequency(self) -> np.ndarray:
        """Transaction days in calibration (x + 1), the F of RFM."""
        return self.x + 1.0


def _day(value: date) -> np.datetime64:
    return np.datetime64(value.isoformat(), "D")


def _transactions(
    customer: np.ndarray, day: np.ndarray, amount: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per (customer, day), sorted by customer then day, values summed."""
    order = np.lexsort((day, customer))
    c, d, v = customer[order], day[order], amount[order]
    if c.size == 0:
        return c, d, v
    new = np.empty(c.size, dtype=bool)
    new[0] = True
    np.not_equal(c[1:], c[:-1], out=new[1:])
    new[1:] |= d[1:] != d[:-1]
    starts = np.flatnonzero(new)
    return c[starts], d[starts], np.add.reduceat(v, starts)


def summarise(
    customer: np.ndarray,
    day: np.ndarray,
    amount: np.ndarray,
    *,
    calibration_end: date,
    holdout_end: date | None = None,
) -> Summary:
    """The calibration summary (and holdout counts) of order-level rows in any order.

    Rows after `holdout_end` (or after `calibration_end` without a holdout) are ignored for the
    model; customers whose first order falls after `calibration_end` are only counted.
    """
    if holdout_end is not None and holdout_end <= calibration_end:
        raise PredictionInputError(
            BAD_HOLDOUT,
            f"the holdout must end after the calibration period: {holdout_end.isoformat()} is "
            f"not after {calibration_end.isoformat()}",
        )
    customer = np.asarray(customer, dtype=np.int64)
    day = np.asarray(day, dtype="datetime64[D]")
    amount = np.asarray(amount, dtype=np.float64)
    cal_end = _day(calibration_end)
    end = _day(holdout_end) if holdout_end is not None else None
    later = np.unique(customer[day > cal_end])
    keep = day <= (end if end is not None else cal_end)
    c, d, v = _transactions(customer[keep], day[keep], amount[keep])
    in_cal = d <= cal_end
    cc, cd, cv = c[in_cal], d[in_cal], v[in_cal]
    if cc.size == 0:
        raise PredictionInputError(
            NO_ORDERS,
            f"the program has no orders on or before {calibration_end.isoformat()}: there is "
            "no purchase history to learn from yet",
        )
    ids, first, count = np.unique(cc, return_index=True, return_counts=True)
    last = first + count - 1
    first_day, last_day = cd[first], cd[last]
    total = np.add.reduceat(cv, first)
    repeat_values = cv.copy()
    repeat_values[first] = 0.0
    repeat_total = np.add.reduceat(repeat_values, first)
    x = (count - 1).astype(np.float64)
    monetary = np.divide(repeat_total, x, out=np.zeros_like(repeat_total), where=x > 0)
    days_to_end = (cal_end - first_day).astype(np.float64)
    holdout_x: np.ndarray | None = None
    holdout_weeks: float | None = None
    if end is not None:
        hc = c[~in_cal]
        pos = np.searchsorted(ids, hc)
        known = pos < ids.size
        known[known] = ids[pos[known]] == hc[known]
        holdout_x = np.bincount(pos[known], minlength=ids.size).astype(np.float64)
        holdout_weeks = float((end - cal_end).astype(np.int64)) / DAYS_PER_WEEK
    return Summary(
        customer=ids,
        x=x,
        t_x=(last_day - first_day).astype(np.float64) / DAYS_PER_WEEK,
        T=days_to_end / DAYS_PER_WEEK,
        monetary=monetary,
        total_value=total,
        recency_days=(cal_end - last_day).astype(np.float64),
        holdout_x=holdout_x,
        holdout_weeks=holdout_weeks,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        later_customers=int(np.setdiff1d(later, ids, assume_unique=True).size),
    )
