"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting Your Customers the
Easy Way", Marketing Science 24(2)): while alive a customer buys at a Poisson rate
lambda ~ Gamma(r, alpha); after each purchase he drops out with probability p ~ Beta(a, b).

Fitted by maximum likelihood (eq. 6) on (x, t_x, T). Why it is done this way:
- parameters are optimised as logarithms, so they stay positive without constraints that stall
  the optimizer, and the objective is the MEAN log-likelihood with its exact gradient, so the
  same tolerances work for 50 customers and for a million (no finite differences, which cost
  five likelihood evaluations per step);
- the likelihood is summed over DISTINCT (x, t_x, T) histories weighted by their share: with
  times in whole days a million customers have about 100,000, so the fit is the same and each
  evaluation ten times cheaper;
- two starting points (one scaled to the data's purchase rate); the better CONVERGED optimum
  wins, and a fit that converges from neither start is refused (`fit_failed`), so a returned
  fit always has `converged=True` (the field is kept for stored fits and reports);
- the conditional expectation (eq. 10) uses Euler's transformation of the Gauss function,
  (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z),
  whose series no longer blows up as x and T grow (x = 200, T = 500 stays finite and exact);
  where that overflows (very large a: a nearly constant dropout probability) the textbook
  form is used, and where both overflow (tiny alpha, huge b, long horizons) a 1-D integral
  over the dropout probability. A grid of 450,000 extreme cases gave no NaN, inf or negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaincinv, betaln, expit, gammaln, hyp2f1, psi

from punchcard.analytics.prediction.errors import (
    FIT_FAILED,
    NO_ORDERS,
    NO_REPEAT_PURCHASES,
    SINGLE_DAY,
    TOO_FEW_CUSTOMERS,
    PredictionInputError,
)

MIN_CUSTOMERS = 10  # four parameters: fewer customers than this give estimates that mean nothing
# How often and how soon customers come back is learnt from those who did: with one or two of
# them the drop-out parameters run off to extremes (a ~ 1e5) and the scores mean nothing.
MIN_REPEAT_CUSTOMERS = 3
_LOG_BOUND = 18.0  # exp(±18): far beyond any sensible r, alpha (weeks or days), a, b
_GRADIENT_TOLERANCE = 1e-4  # on the mean log-likelihood, per log-parameter
_QUADRATURE_CHUNK = 20_000
_LEGENDRE_X, _LEGENDRE_W = np.polynomial.legendre.leggauss(128)
_NODES, _WEIGHTS = (_LEGENDRE_X + 1.0) / 2.0, _LEGENDRE_W / 2.0


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_array(self) -> np.ndarray:
        return np.array([self.r, self.alpha, self.a, self.b], dtype=np.float64)


@dataclass(frozen=True)
class BgNbdFit:
    params: BgNbdParams
    log_likelihood: float
    customers: int
    converged: bool


def _arrays(*values: np.ndarray | float) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(v, dtype=np.float64) for v in values)


def _terms(
    theta: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,  # noqa: N803
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer: the log-likelihood, and the two log terms of its mixture (eq. 6)."""
    r, alpha, a, b = np.exp(theta)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    a4 = np.full_like(x, -np.inf)
    xr = x[repeat]
    a4[repeat] = np.log(a) - np.log(b + xr - 1.0) - (r + xr) * np.log(alpha + t_x[repeat])
    return a1 + a2 + np.logaddexp(a3, a4), a3, a4


def _objective(
    theta: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,  # noqa: N803
    weight: np.ndarray,
) -> tuple[float, np.ndarray]:
    """Minus the mean log-likelihood and its gradient in log-parameter space; `weight` is
    each distinct history's share of the customers."""
    r, alpha, a, b = np.exp(theta)
    ll, a3, a4 = _terms(theta, x, t_x, T)
    w = np.exp(a4 - np.logaddexp(a3, a4))  # weight of the "dropped out after t_x" branch
    v = 1.0 - w
    d_r = psi(r + x) - psi(r) + np.log(alpha) - v * np.log(alpha + T) - w * np.log(alpha + t_x)
    d_alpha = r / alpha - (r + x) * (v / (alpha + T) + w / (alpha + t_x))
    common = psi(a + b) - psi(a + b + x)
    d_a = common + w / a
    bx1 = np.where(x > 0, b + x - 1.0, 1.0)
    d_b = common + psi(b + x) - psi(b) - w / bx1
    grad = np.array(
        [d_r @ weight * r, d_alpha @ weight * alpha, d_a @ weight * a, d_b @ weight * b]
    )
    return -float(ll @ weight), -grad


def _distinct(
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,  # noqa: N803
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (x, t_x, T) histories and their shares: with times in whole days a
    million customers have only some 100,000 distinct histories, so each likelihood
    evaluation is ten times cheaper and the fit exactly the same."""
    order = np.lexsort((T, t_x, x))
    xs, ts, Ts = x[order], t_x[order], T[order]  # noqa: N806
    new = np.ones(xs.size, dtype=bool)
    new[1:] = (xs[1:] != xs[:-1]) | (ts[1:] != ts[:-1]) | (Ts[1:] != Ts[:-1])
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, xs.size))
    return xs[starts], ts[starts], Ts[starts], counts / xs.size


def log_likelihood(
    params: BgNbdParams,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,  # noqa: N803
) -> float:
    xa, ta, Ta = _arrays(x, t_x, T)  # noqa: N806
    return float(_terms(np.log(params.as_array()), xa, ta, Ta)[0].sum())


def validate(
    x: np.ndarray,
    T: np.ndarray,  # noqa: N803
    *,
    before: str | None = None,
) -> None:
    """Refuse histories the model cannot be identified on, saying why in plain words."""
    when = f" on or before {before}" if before else ""
    n = int(x.size)
    if n == 0:
        raise PredictionInputError(
            NO_ORDERS, f"the program has no orders{when}: there is nothing to learn from yet"
        )
    if n < MIN_CUSTOMERS:
        who = "only one customer" if n == 1 else f"only {n} customers"
        raise PredictionInputError(
            TOO_FEW_CUSTOMERS,
            f"the program has orders from {who}{when}: the model needs at least "
            f"{MIN_CUSTOMERS} customers",
        )
    if not np.any(x > 0) and float(np.ptp(T)) == 0.0:
        raise PredictionInputError(
            SINGLE_DAY,
            f"every order{when} was placed on the same day: the model needs purchases spread "
            "over several days, including some customers who came back",
        )
    if not np.any(x > 0):
        raise PredictionInputError(
            NO_REPEAT_PURCHASES,
            f"no customer bought on more than one day{when}: without repeat purchases the "
            "model cannot tell how often customers buy or how quickly they leave",
        )
    repeaters = int(np.count_nonzero(x > 0))
    if repeaters < MIN_REPEAT_CUSTOMERS:
        who = "only one customer" if repeaters == 1 else f"only {repeaters} customers"
        raise PredictionInputError(
            NO_REPEAT_PURCHASES,
            f"{who} bought on more than one day{when}: the model needs at least "
            f"{MIN_REPEAT_CUSTOMERS} returning customers to tell how often customers buy and "
            "how quickly they leave",
        )


def _projected_gradient(
    theta: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,  # noqa: N803
    weight: np.ndarray,
) -> float:
    """The largest gradient component that could still move (none at a bound, pushing out)."""
    _, grad = _objective(theta, x, t_x, T, weight)
    at_low = (theta <= -_LOG_BOUND + 1e-8) & (grad > 0)
    at_high = (theta >= _LOG_BOUND - 1e-8) & (grad < 0)
    return float(np.max(np.abs(np.where(at_low | at_high, 0.0, grad))))


def _starts(x: np.ndarray, T: np.ndarray) -> list[np.ndarray]:  # noqa: N803
    """A data-scaled start (rate = repeat days per week observed) and a unit one."""
    rate = max(float(x.sum()) / max(float(T.sum()), 1e-9), 1e-6)
    return [np.log([1.0, 1.0 / rate, 1.0, 2.0]), np.log([0.5, 5.0 / rate, 0.5, 1.5])]


def fit(
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,  # noqa: N803
    *,
    before: str | None = None,
) -> BgNbdFit:
    """Maximum-likelihood BG/NBD parameters; `before` (an ISO date) only words the errors."""
    xa, ta, Ta = _arrays(x, t_x, T)  # noqa: N806
    validate(xa, Ta, before=before)
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 4
    dx, dt, dT, weight = _distinct(xa, ta, Ta)  # noqa: N806
    finite, converged = [], []
    # Imported here: scipy.optimize costs each API worker ~25 MB, for a fit that runs rarely.
    from scipy.optimize import minimize

    for start in _starts(xa, Ta):
        with np.errstate(all="ignore"):
            found = minimize(
                _objective,
                start,
                args=(dx, dt, dT, weight),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": 500, "gtol": 1e-9, "ftol": 1e-13},
            )
            if not (np.isfinite(found.fun) and np.all(np.isfinite(found.x))):
                continue
            finite.append(found)
            if (
                found.success
                or _projected_gradient(found.x, dx, dt, dT, weight) < _GRADIENT_TOLERANCE
            ):
                converged.append(found)
    if not finite:
        raise PredictionInputError(
            FIT_FAILED,
            "the purchase model could not be fitted to this history (the numbers did not "
            "settle): try a later calibration end date so more repeat purchases are included",
        )
    if not converged:
        raise PredictionInputError(
            FIT_FAILED,
            "the purchase model did not converge on this history: try a later calibration end "
            "date, or wait until more customers have bought more than once",
        )
    best = min(converged, key=lambda found: float(found.fun))
    r, alpha, a, b = (float(v) for v in np.exp(best.x))
    params = BgNbdParams(r=r, alpha=alpha, a=a, b=b)
    return BgNbdFit(
        params=params,
        log_likelihood=log_likelihood(params, xa, ta, Ta),
        customers=int(xa.size),
        converged=True,
    )


def p_alive(
    params: BgNbdParams,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,  # noqa: N803
) -> np.ndarray:
    """P(still a customer at T | x, t_x, T) (FHL 2005, eq. 13); 1 for customers with x = 0,
    as the model lets customers drop out only right after a purchase."""
    xa, ta, Ta = _arrays(x, t_x, T)  # noqa: N806
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = xa > 0
    bx1 = np.where(repeat, b + xa - 1.0, 1.0)
    log_odds = np.log(a) - np.log(bx1) + (r + xa) * (np.log(alpha + Ta) - np.log(alpha + ta))
    return np.where(repeat, expit(-log_odds), 1.0)


def _given_alive_gauss(
    params: BgNbdParams, t: float, x: np.ndarray, horizon_start: np.ndarray
) -> np.ndarray:
    """E[purchases in the next t | alive] by eq. 10's hypergeometric term: Euler's form first
    (stable for large x and T), the textbook form where that overflows (very large a)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    head = (a + b + x - 1.0) / _a_minus_one(a)
    z = t / (alpha + horizon_start + t)
    log_1mz = np.log1p(-z)
    euler = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
    scale = np.exp((a - 1.0) * log_1mz)
    found = np.asarray(head * (-np.expm1((a - 1.0) * log_1mz) - scale * (euler - 1.0)), float)
    bad = ~np.isfinite(found)
    if bad.any():
        xb, zb = x[bad], z[bad]
        textbook = hyp2f1(r + xb, b + xb, a + b + xb - 1.0, zb)
        found[bad] = head[bad] * (1.0 - np.exp((r + xb) * log_1mz[bad]) * textbook)
    return found


def _given_alive_quadrature(
    params: BgNbdParams, t: float, x: np.ndarray, horizon_start: np.ndarray
) -> np.ndarray:
    """The same expectation as a 1-D integral, for the corners where 2F1 overflows: given
    alive, lambda | x, T ~ Gamma(r + x, alpha + T) and p ~ Beta(a, b + x), and a customer with
    (lambda, p) makes (1 - exp(-lambda p t)) / p purchases in t; lambda integrates in closed
    form, p by Gauss-Legendre over its quantiles (the integrand is bounded and monotone)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    out = np.empty_like(x)
    for lo in range(0, x.size, _QUADRATURE_CHUNK):
        xs = x[lo : lo + _QUADRATURE_CHUNK, None]
        scale = alpha + horizon_start[lo : lo + _QUADRATURE_CHUNK, None]
        p = betaincinv(a, b + xs, _NODES[None, :])
        rate = t / scale
        small = p * rate < 1e-12
        g = np.where(
            small,
            (r + xs) * rate,
            -np.expm1(-(r + xs) * np.log1p(p * rate)) / np.where(small, 1.0, p),
        )
        out[lo : lo + _QUADRATURE_CHUNK] = g @ _WEIGHTS
    return out


def _given_alive(
    params: BgNbdParams, t: float, x: np.ndarray, horizon_start: np.ndarray
) -> np.ndarray:
    if t <= 0:
        return np.zeros_like(x)
    with np.errstate(all="ignore"):
        found = _given_alive_gauss(params, t, x, horizon_start)
        bad = ~np.isfinite(found) | (found < 0)
        if bad.any():
            found[bad] = _given_alive_quadrature(params, t, x[bad], horizon_start[bad])
    return found


def _a_minus_one(a: float) -> float:
    """a - 1, kept off zero: eq. 7 and 10 divide by it (the limit exists; a = 1 exactly
    only arrives from a hand-made parameter set)."""
    return a - 1.0 if abs(a - 1.0) > 1e-9 else 1e-9


def expected_purchases(
    params: BgNbdParams,
    t: float,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,  # noqa: N803
) -> np.ndarray:
    """E[purchases in (T, T+t] | x, t_x, T] (FHL 2005, eq. 10), t in the fit's time unit."""
    xa, ta, Ta = _arrays(x, t_x, T)  # noqa: N806
    xa, ta, Ta = np.broadcast_arrays(xa, ta, Ta)  # noqa: N806
    found = _given_alive(params, float(t), xa, Ta) * p_alive(params, xa, ta, Ta)
    return np.asarray(found, dtype=np.float64)


def expected_purchases_new(params: BgNbdParams, t: float) -> float:
    """E[X(t)] for a customer just acquired (FHL 2005, eq. 7): repeat purchases in t."""
    zero = np.zeros(1)
    return float(_given_alive(params, float(t), zero, zero)[0])


def log_likelihood_terms(
    params: BgNbdParams,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,  # noqa: N803
) -> np.ndarray:
    """Each customer's log-likelihood (for diagnostics and tests)."""
    xa, ta, Ta = _arrays(x, t_x, T)  # noqa: N806
    return _terms(np.log(params.as_array()), xa, ta, Ta)[0]
