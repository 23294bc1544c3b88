"""Order rows to the per-customer summary: same-day merge, weeks, holdout, later customers."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from punchcard.analytics.prediction import history
from punchcard.analytics.prediction.errors import PredictionInputError

CAL = date(2024, 3, 31)
HOLD = date(2024, 6, 30)


def rows(*items: tuple[int, str, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    customer = np.array([i[0] for i in items], dtype=np.int64)
    day = np.array([i[1] for i in items], dtype="datetime64[D]")
    amount = np.array([i[2] for i in items], dtype=np.float64)
    return customer, day, amount


# Deliberately unsorted. Customer 7: two orders on 03-01 (one transaction, 30), then 03-15 (20)
# and 03-17 (40, two orders), one holdout day with two orders, one order after the holdout.
# Customer 3: one order only. Customer 9: first buys in the holdout (later customer).
# Customer 5: first buys after the holdout (also later, ignored).
EXAMPLE = rows(
    (7, "2024-03-17", 15.0),
    (3, "2024-02-04", 12.0),
    (7, "2024-03-01", 10.0),
    (9, "2024-04-10", 99.0),
    (7, "2024-03-15", 20.0),
    (7, "2024-05-01", 5.0),
    (7, "2024-03-01", 20.0),
    (7, "2024-03-17", 25.0),
    (7, "2024-05-01", 6.0),
    (7, "2024-07-04", 8.0),
    (5, "2024-08-01", 1.0),
)


def test_summary_merges_same_day_orders_and_counts_in_weeks() -> None:
    s = history.summarise(*EXAMPLE, calibration_end=CAL, holdout_end=HOLD)
    assert s.customer.tolist() == [3, 7]
    assert s.customer.dtype == np.int64
    assert s.x.tolist() == [0.0, 2.0]
    assert s.t_x.tolist() == [0.0, 16 / 7]
    assert s.T.tolist() == [56 / 7, 30 / 7]
    assert s.total_value.tolist() == [12.0, 90.0]
    # Repeat days only: (20 + 40) / 2; the first day's 30 is left out.
    assert s.monetary.tolist() == [0.0, 30.0]
    assert s.recency_days.tolist() == [56.0, 14.0]
    assert s.frequency.tolist() == [1.0, 3.0]
    assert s.holdout_x is not None
    assert s.holdout_x.tolist() == [0.0, 1.0]
    assert s.holdout_weeks == 91 / 7
    assert s.later_customers == 2
    assert (s.calibration_end, s.holdout_end) == (CAL, HOLD)


def test_without_holdout_later_rows_are_ignored() -> None:
    s = history.summarise(*EXAMPLE, calibration_end=CAL)
    assert s.holdout_x is None
    assert s.holdout_weeks is None
    assert s.holdout_end is None
    assert s.x.tolist() == [0.0, 2.0]
    assert s.total_value.tolist() == [12.0, 90.0]


def test_calibration_end_day_is_included() -> None:
    s = history.summarise(
        *rows((1, "2024-03-01", 1.0), (1, "2024-03-31", 2.0)), calibration_end=CAL
    )
    assert s.x.tolist() == [1.0]
    assert s.recency_days.tolist() == [0.0]


def test_summary_does_not_depend_on_row_order() -> None:
    customer, day, amount = EXAMPLE
    order = np.random.default_rng(1).permutation(customer.size)
    a = history.summarise(*EXAMPLE, calibration_end=CAL, holdout_end=HOLD)
    b = history.summarise(
        customer[order], day[order], amount[order], calibration_end=CAL, holdout_end=HOLD
    )
    for field in ("customer", "x", "t_x", "T", "monetary", "total_value", "recency_days"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_summary_agrees_with_a_plain_python_count() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    customer = rng.integers(1, 400, n)
    day = np.datetime64("2024-01-01") + rng.integers(0, 150, n)
    amount = rng.uniform(1, 50, n).round(2)
    s = history.summarise(customer, day, amount, calibration_end=CAL, holdout_end=HOLD)
    cal = np.datetime64(CAL.isoformat())
    days: dict[int, dict[np.datetime64, float]] = {}
    for c, d, v in zip(customer.tolist(), day, amount.tolist(), strict=True):
        if d <= cal:
            days.setdefault(c, {}).setdefault(d, 0.0)
            days[c][d] += v
    assert s.customer.tolist() == sorted(days)
    for i, c in enumerate(s.customer.tolist()):
        ordered = sorted(days[c])
        assert s.x[i] == len(ordered) - 1
        assert s.total_value[i] == pytest.approx(sum(days[c].values()))
        assert s.recency_days[i] == (cal - ordered[-1]).astype(int)
        if len(ordered) > 1:
            repeat = [days[c][d] for d in ordered[1:]]
            assert s.monetary[i] == pytest.approx(sum(repeat) / len(repeat))
    assert s.holdout_x is not None
    in_holdout = (day > cal) & (day <= np.datetime64(HOLD.isoformat()))
    pairs = {(c, d) for c, d in zip(customer[in_holdout].tolist(), day[in_holdout], strict=True)}
    assert s.holdout_x.sum() == sum(1 for c, _ in pairs if c in days)


def test_no_orders_before_the_calibration_end() -> None:
    empty = rows()
    with pytest.raises(PredictionInputError) as caught:
        history.summarise(*empty, calibration_end=CAL)
    assert caught.value.code == "no_orders"
    assert "2024-03-31" in caught.value.message
    with pytest.raises(PredictionInputError) as caught:
        history.summarise(*rows((1, "2024-05-01", 3.0)), calibration_end=CAL)
    assert caught.value.code == "no_orders"


@pytest.mark.parametrize("holdout_end", [CAL, date(2024, 1, 1)])
def test_holdout_must_end_after_the_calibration(holdout_end: date) -> None:
    with pytest.raises(PredictionInputError) as caught:
        history.summarise(*EXAMPLE, calibration_end=CAL, holdout_end=holdout_end)
    assert caught.value.code == "bad_holdout"
    assert isinstance(caught.value, ValueError)
    assert "must end after" in caught.value.message
