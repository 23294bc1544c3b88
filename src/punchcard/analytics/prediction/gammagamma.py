"""The Gamma-Gamma model of spend per transaction (Fader & Hardie 2013, "The Gamma-Gamma Model
of Monetary Value"; Colombo & Jiang 1999): each transaction's value is Gamma(p, nu) with the
customer's nu ~ Gamma(q, v), so a customer's average over x transactions shrinks towards the
population mean p v / (q - 1) the fewer transactions he has.

Fitted on customers with at least one repeat transaction day and a positive average, their
`monetary` being the mean value of the REPEAT transaction days (the first purchase excluded,
as in the paper's CDNOW example: it reproduces p = 6.25, q = 3.74, v = 15.44). Like the BG/NBD
fit: log-parameters, mean log-likelihood with its exact gradient, the better of two starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, psi

from punchcard.analytics.prediction.errors import (
    FIT_FAILED,
    TOO_FEW_REPEAT_CUSTOMERS,
    PredictionInputError,
)

MIN_REPEAT_CUSTOMERS = 10  # three parameters, estimated only from customers who came back
_LOG_BOUND = 25.0


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float


@dataclass(frozen=True)
class GammaGammaFit:
    params: GammaGammaParams
    log_likelihood: float
    customers: int


def _objective(theta: np.ndarray, x: np.ndarray, m: np.ndarray) -> tuple[float, np.ndarray]:
    """Minus the mean log-likelihood and its gradient in log-parameter space."""
    p, q, v = np.exp(theta)
    px = p * x
    log_vmx = np.log(v + m * x)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_vmx
    )
    d_p = x * (psi(px + q) - psi(px) + np.log(m) + np.log(x) - log_vmx)
    d_q = psi(px + q) - psi(q) + np.log(v) - log_vmx
    d_v = q / v - (px + q) / (v + m * x)
    grad = np.array([d_p.mean() * p, d_q.mean() * q, d_v.mean() * v])
    return -float(ll.mean()), -grad


def _usable(x: np.ndarray, monetary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xa = np.asarray(x, dtype=np.float64)
    ma = np.asarray(monetary, dtype=np.float64)
    keep = (xa > 0) & (ma > 0) & np.isfinite(ma)
    return xa[keep], ma[keep]


def log_likelihood(params: GammaGammaParams, x: np.ndarray, monetary: np.ndarray) -> float:
    xa, ma = _usable(x, monetary)
    theta = np.log([params.p, params.q, params.v])
    return -_objective(theta, xa, ma)[0] * xa.size


def fit(x: np.ndarray, monetary: np.ndarray) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters from repeat customers' average spend."""
    xa, ma = _usable(x, monetary)
    if xa.size < MIN_REPEAT_CUSTOMERS:
        raise PredictionInputError(
            TOO_FEW_REPEAT_CUSTOMERS,
            f"only {xa.size} customers bought again with a recorded amount: the spend model "
            f"needs at least {MIN_REPEAT_CUSTOMERS}, so expected order values and CLV are not "
            "available yet",
        )
    mean = float(ma.mean())
    best = None
    # Imported here: scipy.optimize costs each API worker ~25 MB, for a fit that runs rarely.
    from scipy.optimize import minimize

    for start in (np.log([1.0, 2.0, mean]), np.log([5.0, 4.0, 3.0 * mean / 5.0])):
        with np.errstate(all="ignore"):
            found = minimize(
                _objective,
                start,
                args=(xa, ma),
                jac=True,
                method="L-BFGS-B",
                bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 3,
                options={"maxiter": 1000, "gtol": 1e-10, "ftol": 1e-14},
            )
        usable = np.isfinite(found.fun) and np.all(np.isfinite(found.x))
        if usable and (best is None or found.fun < best.fun):
            best = found
    if best is None:
        raise PredictionInputError(
            FIT_FAILED,
            "the spend model could not be fitted to these order values: check that amounts "
            "are recorded, or try a later calibration end date",
        )
    p, q, v = (float(value) for value in np.exp(best.x))
    params = GammaGammaParams(p=p, q=q, v=v)
    return GammaGammaFit(
        params=params, log_likelihood=log_likelihood(params, xa, ma), customers=int(xa.size)
    )


def population_mean(params: GammaGammaParams) -> float:
    """E[M] = p v / (q - 1): the expected average order value of a customer we know nothing of."""
    if params.q <= 1.0:
        raise PredictionInputError(
            FIT_FAILED,
            "the spend model found order values too spread out to have a meaningful average "
            f"(q = {params.q:.3g} must be above 1): expected order values and CLV are not "
            "available; a longer history or excluding unusual orders may help",
        )
    return params.p * params.v / (params.q - 1.0)


def expected_value(params: GammaGammaParams, x: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """E[M | x, mean spend] (Fader & Hardie 2013, eq. 5): a weighted mix of the population mean
    and the customer's own repeat average; the population mean where x == 0."""
    prior = population_mean(params)
    xa = np.asarray(x, dtype=np.float64)
    ma = np.asarray(monetary, dtype=np.float64)
    px = params.p * xa
    weight = px / (px + params.q - 1.0)
    own = np.where(xa > 0, ma, 0.0)
    return (1.0 - weight) * prior + weight * own
