"""The pipeline: fit, holdout check, scores, CLV, JSON round trip, and refusals end to end."""

from __future__ import annotations

import json
import warnings
from datetime import date, timedelta

import numpy as np
import pytest

from punchcard.analytics.prediction import bgnbd, clv, gammagamma, history, model
from punchcard.analytics.prediction.bgnbd import BgNbdParams
from punchcard.analytics.prediction.errors import CODES, PredictionInputError
from punchcard.analytics.prediction.gammagamma import GammaGammaParams
from punchcard.analytics.prediction.history import Summary
from punchcard.errors import PunchcardError

CAL = date(2024, 6, 30)
HOLD = date(2024, 12, 31)
START = np.datetime64("2024-01-01")
BG = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
GG = GammaGammaParams(p=6.25, q=3.74, v=15.44)


def orders(n: int = 400, seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers buying every ~3 weeks for a random while; amounts around 30."""
    rng = np.random.default_rng(seed)
    customer, day, amount = [], [], []
    for c in range(1, n + 1):
        first = int(rng.integers(0, 120))
        stop = first + int(rng.exponential(120))
        t = first
        while t <= min(stop, 365):
            customer.append(c)
            day.append(START + t)
            amount.append(float(rng.gamma(6, 5)))
            t += 1 + int(rng.exponential(21))
    return np.array(customer), np.array(day, dtype="datetime64[D]"), np.array(amount)


@pytest.fixture(scope="module")
def summary() -> Summary:
    return history.summarise(*orders(), calibration_end=CAL, holdout_end=HOLD)


@pytest.fixture(scope="module")
def fitted(summary: Summary) -> model.Fitted:
    return model.fit(summary)


def test_fit_and_holdout_on_a_made_up_program(fitted: model.Fitted, summary: Summary) -> None:
    assert fitted.bgnbd.converged
    assert fitted.gamma_gamma is not None
    assert (fitted.calibration_end, fitted.holdout_end) == (CAL, HOLD)
    holdout = model.holdout_check(fitted, summary)
    assert holdout is not None
    assert summary.holdout_x is not None
    assert holdout.actual == int(summary.holdout_x.sum())
    expected = bgnbd.expected_purchases(
        fitted.bgnbd.params, holdout.weeks, summary.x, summary.t_x, summary.T
    )
    assert holdout.predicted == pytest.approx(float(expected.sum()))
    assert holdout.customers == summary.customers
    assert holdout.weeks == (HOLD - CAL).days / 7
    assert holdout.auc is not None
    assert 0.5 < holdout.auc <= 1.0


def test_no_holdout_no_check(fitted: model.Fitted) -> None:
    plain = history.summarise(*orders(), calibration_end=CAL)
    assert model.holdout_check(fitted, plain) is None


def test_auc_is_none_when_nobody_buys_in_the_holdout(fitted: model.Fitted) -> None:
    customer, day, amount = orders()
    early = day <= np.datetime64(CAL.isoformat())
    s = history.summarise(
        customer[early], day[early], amount[early], calibration_end=CAL, holdout_end=HOLD
    )
    holdout = model.holdout_check(fitted, s)
    assert holdout is not None
    assert holdout.actual == 0
    assert holdout.auc is None


def test_scores_are_finite_and_consistent(fitted: model.Fitted, summary: Summary) -> None:
    scores = model.score_summary(fitted, summary, weeks=26.0, months=6)
    n = summary.customers
    assert scores.expected_value is not None
    assert scores.clv is not None
    for values in (scores.p_alive, scores.expected_purchases, scores.expected_value, scores.clv):
        assert values.shape == (n,)
        assert np.all(np.isfinite(values))
    np.testing.assert_allclose(
        scores.expected_purchases,
        bgnbd.expected_purchases(fitted.bgnbd.params, 26.0, summary.x, summary.t_x, summary.T),
    )
    assert len(scores.segment) == n
    assert scores.r.dtype == np.int64
    assert set(scores.r.tolist()) <= {1, 2, 3, 4, 5}


def test_one_member_scores_like_in_the_whole_base(fitted: model.Fitted, summary: Summary) -> None:
    everyone = model.score_summary(fitted, summary)
    i = int(np.argmax(summary.x))
    one = model.score(
        fitted,
        x=summary.x[i : i + 1],
        t_x=summary.t_x[i : i + 1],
        T=summary.T[i : i + 1],
        monetary=summary.monetary[i : i + 1],
        recency_days=summary.recency_days[i : i + 1],
        frequency=summary.frequency[i : i + 1],
        total_value=summary.total_value[i : i + 1],
    )
    assert one.clv is not None
    assert everyone.clv is not None
    assert one.clv[0] == pytest.approx(everyone.clv[i])
    assert one.segment == [everyone.segment[i]]
    assert (one.r[0], one.f[0], one.m[0]) == (everyone.r[i], everyone.f[i], everyone.m[i])


def test_json_round_trip_scores_the_same(fitted: model.Fitted, summary: Summary) -> None:
    holdout = model.holdout_check(fitted, summary)
    body = model.result_json(fitted, holdout)
    text = json.dumps(body, allow_nan=False)
    again = model.fitted_from_json(json.loads(text))
    assert again == fitted
    assert set(body["bgnbd"]) >= {
        "r",
        "alpha",
        "a",
        "b",
        "log_likelihood",
        "customers",
        "converged",
    }
    assert set(body["gamma_gamma"]) >= {"p", "q", "v", "log_likelihood", "customers"}
    assert set(body["holdout"]) >= {"predicted", "actual", "auc", "customers", "weeks"}
    assert body["calibration_end"] == "2024-06-30"
    assert body["holdout_end"] == "2024-12-31"
    assert body["gamma_gamma_error"] is None
    a = model.score_summary(fitted, summary)
    b = model.score_summary(again, summary)
    assert a.clv is not None
    assert b.clv is not None
    np.testing.assert_array_equal(a.clv, b.clv)


def test_without_spend_model_values_and_clv_are_none() -> None:
    """Enough repeat buyers for BG/NBD but no amounts: the fit still works, and says why."""
    customer, day, amount = orders()
    s = history.summarise(customer, day, np.zeros_like(amount), calibration_end=CAL)
    fitted = model.fit(s)
    assert fitted.gamma_gamma is None
    assert fitted.gamma_gamma_error is not None
    assert "spend model" in fitted.gamma_gamma_error
    scores = model.score_summary(fitted, s)
    assert scores.expected_value is None
    assert scores.clv is None
    assert np.all(np.isfinite(scores.p_alive))
    body = json.loads(json.dumps(model.result_json(fitted, None)))
    assert body["gamma_gamma"] is None
    assert body["holdout"] is None
    assert body["holdout_end"] is None
    assert model.fitted_from_json(body) == fitted


def test_clv_by_hand_for_one_customer() -> None:
    x, t_x, T, m = (np.array([v]) for v in (4.0, 30.0, 39.0, 25.0))  # noqa: N806
    value = gammagamma.expected_value(GG, x, m)[0]
    monthly = 1.1 ** (1 / 12) - 1
    by_hand = 0.0
    for k in range(1, 4):
        now = bgnbd.expected_purchases(BG, k * 52 / 12, x, t_x, T)[0]
        before = bgnbd.expected_purchases(BG, (k - 1) * 52 / 12, x, t_x, T)[0]
        by_hand += 0.4 * value * (now - before) / (1 + monthly) ** k
    got = clv.clv(BG, GG, x, t_x, T, m, months=3, annual_discount_rate=0.10, margin=0.4)
    assert got[0] == pytest.approx(by_hand)
    undiscounted = clv.clv(BG, GG, x, t_x, T, m, months=3, annual_discount_rate=0.0)
    plain = value * bgnbd.expected_purchases(BG, 13.0, x, t_x, T)[0]
    assert undiscounted[0] == pytest.approx(plain)
    assert undiscounted[0] > got[0] / 0.4


def test_clv_grows_with_the_horizon_and_stays_finite_for_extremes() -> None:
    x = np.array([0.0, 200.0, 3.0])
    t_x = np.array([0.0, 499.0, 1.0])
    T = np.array([0.0, 500.0, 500.0])  # noqa: N806
    m = np.array([0.0, 40.0, 1e6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        short = clv.clv(BG, GG, x, t_x, T, m, months=1)
        long = clv.clv(BG, GG, x, t_x, T, m, months=120)
    assert np.all(np.isfinite(long))
    assert np.all(long >= short)
    assert np.all(short >= 0)


@pytest.mark.parametrize(
    ("months", "rate", "margin", "words"),
    [
        (0, 0.1, 1.0, "1 to 120 months"),
        (121, 0.1, 1.0, "1 to 120 months"),
        (12, -0.1, 1.0, "discount rate"),
        (12, 1.5, 1.0, "discount rate"),
        (12, 0.1, 0.0, "margin"),
        (12, 0.1, 1.2, "margin"),
        (12, float("nan"), 1.0, "discount rate"),
    ],
)
def test_clv_refuses_invalid_arguments(months: int, rate: float, margin: float, words: str) -> None:
    one = np.ones(1)
    with pytest.raises(PredictionInputError) as caught:
        clv.clv(BG, GG, one, one, one, one, months=months, annual_discount_rate=rate, margin=margin)
    assert caught.value.code == "invalid_value"
    assert words in caught.value.message


def test_score_refuses_invalid_clv_arguments(fitted: model.Fitted, summary: Summary) -> None:
    with pytest.raises(PredictionInputError) as caught:
        model.score_summary(fitted, summary, months=0)
    assert caught.value.code == "invalid_value"


def _fit_rows(*items: tuple[int, str, float]) -> model.Fitted:
    customer = np.array([i[0] for i in items], dtype=np.int64)
    day = np.array([i[1] for i in items], dtype="datetime64[D]")
    amount = np.array([i[2] for i in items])
    return model.fit(history.summarise(customer, day, amount, calibration_end=CAL))


def _refusal(*items: tuple[int, str, float]) -> PredictionInputError:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy warning would be a failure too
        with pytest.raises(PredictionInputError) as caught:
            _fit_rows(*items)
    return caught.value


def test_a_program_with_no_orders_is_refused_plainly() -> None:
    refusal = _refusal()
    assert refusal.code == "no_orders"
    assert refusal.message.startswith("the program has no orders on or before 2024-06-30")


def test_a_program_with_one_customer_is_refused_plainly() -> None:
    refusal = _refusal((1, "2024-01-02", 10.0), (1, "2024-02-02", 10.0), (1, "2024-03-02", 5.0))
    assert refusal.code == "too_few_customers"
    assert refusal.message == (
        "the program has orders from only one customer on or before 2024-06-30: the model "
        f"needs at least {bgnbd.MIN_CUSTOMERS} customers"
    )


def test_a_program_with_every_order_on_one_day_is_refused_plainly() -> None:
    refusal = _refusal(*[(c, "2024-05-05", 10.0 + c) for c in range(1, 40)])
    assert refusal.code == "single_day"
    assert "every order on or before 2024-06-30 was placed on the same day" in refusal.message


def test_a_program_where_nobody_came_back_is_refused_plainly() -> None:
    first = date(2024, 1, 1)
    refusal = _refusal(*[(c, (first + timedelta(days=c)).isoformat(), 10.0) for c in range(40)])
    assert refusal.code == "no_repeat_purchases"
    assert "no customer bought on more than one day" in refusal.message


def test_refusals_are_value_errors_and_api_errors_with_known_codes() -> None:
    refusal = _refusal()
    assert isinstance(refusal, ValueError)
    assert isinstance(refusal, PunchcardError)
    assert refusal.to_body()["error"]["code"] == "no_orders"
    assert refusal.status == 422
    assert refusal.code in CODES
