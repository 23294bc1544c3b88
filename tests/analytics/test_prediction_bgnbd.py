"""BG/NBD properties and refusals that do not need the CDNOW file."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.optimize

from punchcard.analytics.prediction import bgnbd, gammagamma
from punchcard.analytics.prediction.bgnbd import BgNbdParams
from punchcard.analytics.prediction.errors import PredictionInputError

CDNOW = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def simulate(
    params: BgNbdParams, n: int, weeks: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, t_x, T of n customers acquired uniformly over the first 12 weeks."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(params.r, 1 / params.alpha, n)
    p = rng.beta(params.a, params.b, n)
    T = weeks - rng.uniform(0, 12, n)  # noqa: N806
    x = np.zeros(n)
    t_x = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    clock = np.zeros(n)
    while alive.any():
        clock[alive] += rng.exponential(1 / np.maximum(lam[alive], 1e-12))
        bought = alive & (clock <= T)
        x[bought] += 1
        t_x[bought] = clock[bought]
        alive = bought & (rng.random(n) >= p)
    return x, t_x, T


def test_fit_recovers_simulated_parameters() -> None:
    x, t_x, T = simulate(CDNOW, 20000, 39.0, seed=3)  # noqa: N806
    fit = bgnbd.fit(x, t_x, T)
    assert fit.converged
    assert fit.customers == 20000
    truth = CDNOW.as_array()
    assert np.all(np.abs(fit.params.as_array() / truth - 1) < 0.25), fit.params


def test_fit_does_not_depend_on_the_time_unit() -> None:
    """Weeks or days: alpha scales by 7, the rest does not move (scale-invariance)."""
    x, t_x, T = simulate(CDNOW, 3000, 39.0, seed=4)  # noqa: N806
    weeks = bgnbd.fit(x, t_x, T).params
    days = bgnbd.fit(x, t_x * 7, T * 7).params
    assert days.alpha == pytest.approx(weeks.alpha * 7, rel=1e-3)
    for name in ("r", "a", "b"):
        assert getattr(days, name) == pytest.approx(getattr(weeks, name), rel=1e-3)


def test_p_alive_is_one_without_repeat_purchases() -> None:
    p = bgnbd.p_alive(CDNOW, np.zeros(3), np.zeros(3), np.array([0.0, 10.0, 500.0]))
    assert p.tolist() == [1.0, 1.0, 1.0]


def test_p_alive_falls_with_time_since_last_purchase_and_rises_with_recency() -> None:
    T = np.linspace(10, 100, 20)  # noqa: N806
    p = bgnbd.p_alive(CDNOW, np.full(20, 3.0), np.full(20, 8.0), T)
    assert np.all(np.diff(p) < 0)
    assert np.all((p > 0) & (p < 1))
    recent = bgnbd.p_alive(CDNOW, np.full(20, 3.0), np.linspace(1, 39, 20), np.full(20, 40.0))
    assert np.all(np.diff(recent) > 0)


def test_expected_purchases_grow_with_the_horizon_and_frequency() -> None:
    one = np.ones(1)
    horizon = [
        bgnbd.expected_purchases(CDNOW, t, 3 * one, 30 * one, 39 * one)[0] for t in (1, 10, 52)
    ]
    assert horizon[0] < horizon[1] < horizon[2]
    by_x = bgnbd.expected_purchases(
        CDNOW, 39, np.array([1.0, 5.0, 20.0]), np.full(3, 38.0), np.full(3, 39.0)
    )
    assert np.all(np.diff(by_x) > 0)
    assert bgnbd.expected_purchases(CDNOW, 0.0, 3 * one, 30 * one, 39 * one)[0] == 0.0


def test_unconditional_expectation_matches_eq_7_and_the_conditional_for_a_new_customer() -> None:
    from scipy.special import hyp2f1

    r, alpha, a, b = CDNOW.r, CDNOW.alpha, CDNOW.a, CDNOW.b
    t = 39.0
    textbook = (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    )
    assert bgnbd.expected_purchases_new(CDNOW, t) == pytest.approx(textbook, rel=1e-10)
    zero = np.zeros(1)
    assert bgnbd.expected_purchases(CDNOW, t, zero, zero, zero)[0] == pytest.approx(textbook)


def test_extreme_histories_stay_finite() -> None:
    x = np.array([200.0, 200.0, 0.0, 1.0, 500.0, 200.0])
    t_x = np.array([499.0, 3.0, 0.0, 500.0, 2000.0, 0.5])
    T = np.array([500.0, 500.0, 500.0, 500.0, 2000.0, 500.0])  # noqa: N806
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = bgnbd.p_alive(CDNOW, x, t_x, T)
        e = bgnbd.expected_purchases(CDNOW, 52.0, x, t_x, T)
        long = bgnbd.expected_purchases(CDNOW, 5000.0, x, t_x, T)
        ll = bgnbd.log_likelihood(CDNOW, x, t_x, T)
    assert np.all(np.isfinite(p))
    assert np.all(np.isfinite(e))
    assert np.all(np.isfinite(long))
    assert np.isfinite(ll)
    # A customer buying ~weekly for 500 weeks keeps doing so: about 20 in the next 52 weeks.
    assert 15 < e[0] < 25
    assert p[1] < 1e-6
    assert e[1] < 1e-4
    assert np.all(e >= 0)


def test_hand_made_parameters_with_a_equal_one_stay_finite() -> None:
    params = BgNbdParams(r=0.5, alpha=3.0, a=1.0, b=2.0)
    e = bgnbd.expected_purchases(
        params, 10.0, np.array([0.0, 2.0]), np.array([0.0, 5]), np.array([8.0, 8])
    )
    assert np.all(np.isfinite(e))
    assert np.isfinite(bgnbd.expected_purchases_new(params, 10.0))


def _single(n: int, *, x: float = 0.0, T: float = 5.0) -> tuple[np.ndarray, ...]:  # noqa: N803
    return np.full(n, x), np.zeros(n), np.full(n, T)


@pytest.mark.parametrize(
    ("arrays", "code", "words"),
    [
        ((np.zeros(0), np.zeros(0), np.zeros(0)), "no_orders", "no orders"),
        (_single(1, x=3.0), "too_few_customers", "only one customer"),
        (_single(4, x=3.0), "too_few_customers", "only 4 customers"),
        (_single(50), "single_day", "same day"),
        (
            (np.zeros(50), np.zeros(50), np.linspace(0, 20, 50)),
            "no_repeat_purchases",
            "more than one day",
        ),
    ],
)
def test_histories_the_model_cannot_use_are_refused_in_words(
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray], code: str, words: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(PredictionInputError) as caught:
            bgnbd.fit(*arrays, before="2024-03-31")
    assert caught.value.code == code
    assert words in caught.value.message
    assert "2024-03-31" in caught.value.message


def test_gamma_gamma_needs_repeat_customers_with_amounts() -> None:
    with pytest.raises(PredictionInputError) as caught:
        gammagamma.fit(np.array([1.0, 2.0, 0.0, 3.0]), np.array([10.0, 0.0, 5.0, 20.0]))
    assert caught.value.code == "too_few_repeat_customers"
    assert "only 2 customers" in caught.value.message


def test_gamma_gamma_with_q_at_most_one_has_no_mean() -> None:
    with pytest.raises(PredictionInputError) as caught:
        gammagamma.expected_value(
            gammagamma.GammaGammaParams(p=2.0, q=0.9, v=5.0), np.ones(2), np.ones(2)
        )
    assert caught.value.code == "fit_failed"
    assert "q = 0.9" in caught.value.message


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(11)
    p, q, v = 6.0, 4.0, 15.0
    x = rng.integers(1, 8, 20000).astype(float)
    nu = rng.gamma(q, 1 / v, x.size)
    mean = rng.gamma(p * x, 1 / (nu * x))  # mean of x Gamma(p, nu) draws
    fit = gammagamma.fit(x, mean)
    assert fit.params.p == pytest.approx(p, rel=0.15)
    assert fit.params.q == pytest.approx(q, rel=0.15)
    assert fit.params.v == pytest.approx(v, rel=0.2)
    assert gammagamma.population_mean(fit.params) == pytest.approx(p * v / (q - 1), rel=0.05)


@pytest.mark.parametrize("size", [1e4, 1e6])
def test_near_constant_dropout_probability_stays_exact(size: float) -> None:
    """Very large a and b (every customer drops out with about the same probability, a fit a
    program without heterogeneous churn produces) overflow Euler's form; the textbook form
    takes over there and agrees with it where both work."""
    from scipy.special import hyp2f1

    params = BgNbdParams(r=2.38, alpha=7.48, a=0.154 * size, b=size)
    x = np.array([0.0, 1, 3, 10, 50])
    t_x = np.array([0.0, 5, 10, 20, 30])
    T = np.full(5, 39.0)  # noqa: N806
    r, alpha, a, b, t = params.r, params.alpha, params.a, params.b, 39.0
    z = t / (alpha + T + t)
    textbook = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
        * bgnbd.p_alive(params, x, t_x, T)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = bgnbd.expected_purchases(params, t, x, t_x, T)
    np.testing.assert_allclose(ours, textbook, rtol=1e-8)


def test_corners_where_the_gauss_function_overflows_use_the_integral() -> None:
    """Tiny alpha, huge b and a long horizon: both hypergeometric forms overflow; the 1-D
    integral over the dropout probability gives finite, growing expectations, and agrees with
    the closed form where that still works."""
    params = BgNbdParams(r=0.05, alpha=0.5, a=0.1, b=1e4)
    x, t_x, T = np.array([0.0, 1.0, 10.0]), np.zeros(3), np.zeros(3)  # noqa: N806
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        horizons = [bgnbd.expected_purchases(params, t, x, t_x, T) for t in (39.0, 520.0, 5000.0)]
    for values in horizons:
        assert np.all(np.isfinite(values))
        assert np.all(values >= 0)
    assert np.all(horizons[0] < horizons[1])
    assert np.all(horizons[1] < horizons[2])
    usual = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    xs, ts = np.array([0.0, 2.0, 7.0]), np.array([0.0, 38.86, 20.0])
    closed = bgnbd._given_alive_gauss(usual, 39.0, xs, ts)
    integral = bgnbd._given_alive_quadrature(usual, 39.0, xs, ts)
    np.testing.assert_allclose(integral, closed, rtol=1e-3)


class _Result:
    def __init__(self, fun: float, x: np.ndarray, success: bool) -> None:
        self.fun, self.x, self.success = fun, x, success


def _history() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return simulate(CDNOW, 500, 39.0, seed=9)


def test_an_optimizer_giving_non_finite_numbers_is_a_fit_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        scipy.optimize, "minimize", lambda *a, **k: _Result(float("nan"), np.full(4, np.nan), False)
    )
    with pytest.raises(PredictionInputError) as caught:
        bgnbd.fit(*_history())
    assert caught.value.code == "fit_failed"
    assert "try a later calibration end date" in caught.value.message


def test_an_optimizer_that_stops_far_from_the_optimum_is_a_fit_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    far = np.log([5.0, 0.1, 20.0, 0.05])
    monkeypatch.setattr(scipy.optimize, "minimize", lambda *a, **k: _Result(3.0, far, False))
    with pytest.raises(PredictionInputError) as caught:
        bgnbd.fit(*_history())
    assert caught.value.code == "fit_failed"
    assert "did not converge" in caught.value.message


def test_gamma_gamma_optimizer_failure_is_a_fit_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        scipy.optimize, "minimize", lambda *a, **k: _Result(float("inf"), np.zeros(3), False)
    )
    x = np.arange(1.0, 21.0)
    with pytest.raises(PredictionInputError) as caught:
        gammagamma.fit(x, x * 3)
    assert caught.value.code == "fit_failed"
