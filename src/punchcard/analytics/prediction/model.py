"""The prediction pipeline as pure functions: fit a program's history once, check it against a
holdout, store the fit as JSON, and score members (the whole base or one member) later.

The spend model is optional by design: a young program may have enough repeat buyers for the
purchase model but too few amounts for Gamma-Gamma; then the fit still succeeds, with
`gamma_gamma_error` saying why expected values and CLV are missing, instead of failing all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from punchcard.analytics.prediction import bgnbd, clv, gammagamma, rfm
from punchcard.analytics.prediction.bgnbd import BgNbdFit, BgNbdParams
from punchcard.analytics.prediction.errors import PredictionInputError
from punchcard.analytics.prediction.gammagamma import GammaGammaFit, GammaGammaParams
from punchcard.analytics.prediction.history import Summary
from punchcard.analytics.prediction.rfm import RfmCuts


@dataclass(frozen=True)
class Fitted:
    bgnbd: BgNbdFit
    gamma_gamma: GammaGammaFit | None
    gamma_gamma_error: str | None
    rfm: RfmCuts
    calibration_end: date
    holdout_end: date | None


@dataclass(frozen=True)
class Holdout:
    predicted: float
    actual: int
    auc: float | None
    customers: int
    weeks: float


@dataclass(frozen=True)
class Scores:
    p_alive: np.ndarray
    expected_purchases: np.ndarray
    expected_value: np.ndarray | None
    clv: np.ndarray | None
    r: np.ndarray
    f: np.ndarray
    m: np.ndarray
    segment: list[str]


def fit(summary: Summary) -> Fitted:
    """BG/NBD (required), Gamma-Gamma (when the amounts allow) and the RFM cut points."""
    before = summary.calibration_end.isoformat()
    purchases = bgnbd.fit(summary.x, summary.t_x, summary.T, before=before)
    spend: GammaGammaFit | None = None
    spend_error: str | None = None
    try:
        spend = gammagamma.fit(summary.x, summary.monetary)
        gammagamma.population_mean(spend.params)
    except PredictionInputError as refused:
        spend, spend_error = None, refused.message
    return Fitted(
        bgnbd=purchases,
        gamma_gamma=spend,
        gamma_gamma_error=spend_error,
        rfm=rfm.cuts(summary.recency_days, summary.frequency, summary.total_value),
        calibration_end=summary.calibration_end,
        holdout_end=summary.holdout_end,
    )


def holdout_check(fitted: Fitted, summary: Summary) -> Holdout | None:
    """Predicted against actual repeat transaction days in the holdout, and how well the
    expectation ranks who buys again (AUC; None when everybody or nobody did)."""
    if summary.holdout_x is None or summary.holdout_weeks is None:
        return None
    expected = bgnbd.expected_purchases(
        fitted.bgnbd.params, summary.holdout_weeks, summary.x, summary.t_x, summary.T
    )
    bought = summary.holdout_x > 0
    auc = None
    if 0 < int(bought.sum()) < bought.size:
        # Imported here: scikit-learn costs each API worker ~45 MB, for a fit that runs rarely.
        from sklearn.metrics import roc_auc_score

        auc = float(roc_auc_score(bought, expected))
    return Holdout(
        predicted=float(expected.sum()),
        actual=int(summary.holdout_x.sum()),
        auc=auc,
        customers=int(summary.x.size),
        weeks=float(summary.holdout_weeks),
    )


def score(
    fitted: Fitted,
    *,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,  # noqa: N803
    monetary: np.ndarray,
    recency_days: np.ndarray,
    frequency: np.ndarray,
    total_value: np.ndarray,
    weeks: float = 13.0,
    months: int = 12,
    annual_discount_rate: float = 0.10,
) -> Scores:
    """Every member's scores; arrays of one element score one member against the stored fit."""
    clv.validate_args(months, annual_discount_rate, 1.0)
    params = fitted.bgnbd.params
    value = lifetime = None
    if fitted.gamma_gamma is not None:
        spend = fitted.gamma_gamma.params
        value = gammagamma.expected_value(spend, x, monetary)
        lifetime = clv.clv(
            params,
            spend,
            x,
            t_x,
            T,
            monetary,
            months=months,
            annual_discount_rate=annual_discount_rate,
        )
    r, f, m = rfm.scores(fitted.rfm, recency_days, frequency, total_value)
    return Scores(
        p_alive=bgnbd.p_alive(params, x, t_x, T),
        expected_purchases=bgnbd.expected_purchases(params, weeks, x, t_x, T),
        expected_value=value,
        clv=lifetime,
        r=r,
        f=f,
        m=m,
        segment=rfm.segments(r, f, m),
    )


def score_summary(fitted: Fitted, summary: Summary, **options: Any) -> Scores:
    """`score` on a whole `Summary` (the usual case: the base the fit was made on)."""
    return score(
        fitted,
        x=summary.x,
        t_x=summary.t_x,
        T=summary.T,
        monetary=summary.monetary,
        recency_days=summary.recency_days,
        frequency=summary.frequency,
        total_value=summary.total_value,
        **options,
    )


def result_json(fitted: Fitted, holdout: Holdout | None) -> dict[str, Any]:
    bg, gg = fitted.bgnbd, fitted.gamma_gamma
    return {
        "bgnbd": {
            "r": bg.params.r,
            "alpha": bg.params.alpha,
            "a": bg.params.a,
            "b": bg.params.b,
            "log_likelihood": bg.log_likelihood,
            "customers": bg.customers,
            "converged": bg.converged,
        },
        "gamma_gamma": None
        if gg is None
        else {
            "p": gg.params.p,
            "q": gg.params.q,
            "v": gg.params.v,
            "log_likelihood": gg.log_likelihood,
            "customers": gg.customers,
        },
        "gamma_gamma_error": fitted.gamma_gamma_error,
        "holdout": None
        if holdout is None
        else {
            "predicted": holdout.predicted,
            "actual": holdout.actual,
            "auc": holdout.auc,
            "customers": holdout.customers,
            "weeks": holdout.weeks,
        },
        "rfm": fitted.rfm.as_json(),
        "calibration_end": fitted.calibration_end.isoformat(),
        "holdout_end": None if fitted.holdout_end is None else fitted.holdout_end.isoformat(),
    }


def fitted_from_json(d: dict[str, Any]) -> Fitted:
    """The `Fitted` a `result_json` describes (the holdout part is not needed to score)."""
    bg = d["bgnbd"]
    gg = d.get("gamma_gamma")
    spend = None
    if gg is not None:
        spend = GammaGammaFit(
            params=GammaGammaParams(p=float(gg["p"]), q=float(gg["q"]), v=float(gg["v"])),
            log_likelihood=float(gg["log_likelihood"]),
            customers=int(gg["customers"]),
        )
    holdout_end = d.get("holdout_end")
    return Fitted(
        bgnbd=BgNbdFit(
            params=BgNbdParams(
                r=float(bg["r"]), alpha=float(bg["alpha"]), a=float(bg["a"]), b=float(bg["b"])
            ),
            log_likelihood=float(bg["log_likelihood"]),
            customers=int(bg["customers"]),
            converged=bool(bg["converged"]),
        ),
        gamma_gamma=spend,
        gamma_gamma_error=d.get("gamma_gamma_error"),
        rfm=RfmCuts.from_json(d["rfm"]),
        calibration_end=date.fromisoformat(d["calibration_end"]),
        holdout_end=None if holdout_end is None else date.fromisoformat(holdout_end),
    )
