"""Customer lifetime value over a horizon: expected purchases month by month (BG/NBD) times the
expected order value (Gamma-Gamma) times the margin, discounted monthly.

    CLV = sum_{k=1..months} margin * E[M] * (E[Y(t_k)] - E[Y(t_{k-1})]) / (1 + d)^k,
    t_k = k * 52/12 weeks,  d = (1 + annual rate)^(1/12) - 1.

Monthly steps rather than one lump: purchases expected late in the horizon are worth less
today, and the BG/NBD expectation flattens as customers drop out, so the timing matters.
"""

from __future__ import annotations

import numpy as np

from punchcard.analytics.prediction import bgnbd, gammagamma
from punchcard.analytics.prediction.bgnbd import BgNbdParams
from punchcard.analytics.prediction.errors import INVALID_VALUE, PredictionInputError
from punchcard.analytics.prediction.gammagamma import GammaGammaParams

WEEKS_PER_MONTH = 52.0 / 12.0
MAX_MONTHS = 120


def validate_args(months: int, annual_discount_rate: float, margin: float) -> None:
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise PredictionInputError(
            INVALID_VALUE, f"the CLV horizon must be 1 to {MAX_MONTHS} months, not {months}"
        )
    if not 0.0 <= annual_discount_rate <= 1.0:
        raise PredictionInputError(
            INVALID_VALUE,
            "the annual discount rate must be between 0 and 1 (0.10 is 10%), "
            f"not {annual_discount_rate}",
        )
    if not 0.0 < margin <= 1.0:
        raise PredictionInputError(
            INVALID_VALUE,
            f"the margin must be above 0 and at most 1 (0.3 is 30%), not {margin}",
        )


def clv(
    bg: BgNbdParams,
    gg: GammaGammaParams,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,  # noqa: N803
    monetary: np.ndarray,
    *,
    months: int = 12,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
) -> np.ndarray:
    """Discounted expected margin per customer over `months` (time unit of the fit: weeks)."""
    validate_args(months, annual_discount_rate, margin)
    value = gammagamma.expected_value(gg, x, monetary)
    monthly = (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0
    total = np.zeros_like(value)
    previous = np.zeros_like(value)
    for k in range(1, months + 1):
        current = bgnbd.expected_purchases(bg, k * WEEKS_PER_MONTH, x, t_x, T)
        total += (current - previous) / (1.0 + monthly) ** k
        previous = current
    return np.asarray(margin * value * total, dtype=np.float64)
