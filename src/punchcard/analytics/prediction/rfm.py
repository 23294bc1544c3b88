"""RFM scores (1 to 5) and named segments.

Each of recency (days since the last purchase: fewer is better), frequency (transaction days)
and monetary (total value) is scored against the population's quintile cut points (20/40/60/80
percent, stored in `RfmCuts` so one member can later be scored against the same population).
A value scores 1 + the number of cuts it strictly beats (higher frequency/monetary, lower
recency): a value tied with a cut has not beaten it. That matters because the data are full of
ties: most customers buy once, so the 20/40/60% frequency cuts are all 1, and one-time buyers
must score F = 1 (a mid-rank rule would give them 2 and leave "new" and "lost" unreachable).
When all four cuts are equal the population has no spread at all (one customer, or everyone
alike): values equal to it score 3, as nothing sets them apart.

Segments use the common R x FM grid, FM = round-half-up((F + M) / 2):

    R \\ FM    1               2                    3                    4             5
    5         new             potential_loyalists  potential_loyalists  champions     champions
    4         promising       potential_loyalists  loyal                champions     champions
    3         about_to_sleep  need_attention       need_attention       loyal         loyal
    2         hibernating     about_to_sleep       at_risk              at_risk       cannot_lose
    1         lost            hibernating          at_risk              cannot_lose   cannot_lose
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from punchcard.analytics.prediction.errors import NO_ORDERS, PredictionInputError

QUANTILES = (0.2, 0.4, 0.6, 0.8)
SEGMENTS = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cannot_lose",
    "hibernating",
    "lost",
)
# GRID[r - 1][fm - 1]
GRID: tuple[tuple[str, ...], ...] = (
    ("lost", "hibernating", "at_risk", "cannot_lose", "cannot_lose"),
    ("hibernating", "about_to_sleep", "at_risk", "at_risk", "cannot_lose"),
    ("about_to_sleep", "need_attention", "need_attention", "loyal", "loyal"),
    ("promising", "potential_loyalists", "loyal", "champions", "champions"),
    ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
)
_GRID = np.array(GRID, dtype=object)


@dataclass(frozen=True)
class RfmCuts:
    recency: tuple[float, ...]
    frequency: tuple[float, ...]
    monetary: tuple[float, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "quantiles": list(QUANTILES),
            "recency_days": list(self.recency),
            "frequency": list(self.frequency),
            "monetary": list(self.monetary),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RfmCuts:
        def four(name: str) -> tuple[float, ...]:
            values = tuple(float(v) for v in data[name])
            if len(values) != len(QUANTILES) or list(values) != sorted(values):
                raise ValueError(f"RFM cuts {name!r} must be {len(QUANTILES)} sorted numbers")
            return values

        return cls(four("recency_days"), four("frequency"), four("monetary"))


def _quintile_cuts(values: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in np.quantile(np.asarray(values, dtype=np.float64), QUANTILES))


def cuts(recency_days: np.ndarray, frequency: np.ndarray, monetary: np.ndarray) -> RfmCuts:
    if np.asarray(recency_days).size == 0:
        raise PredictionInputError(NO_ORDERS, "RFM scores need at least one customer with orders")
    return RfmCuts(
        _quintile_cuts(recency_days), _quintile_cuts(frequency), _quintile_cuts(monetary)
    )


def _score(edges: tuple[float, ...], values: np.ndarray, *, lower_is_better: bool) -> np.ndarray:
    e = np.asarray(edges, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if lower_is_better:
        beaten = e.size - np.searchsorted(e, v, side="right")  # cuts strictly above v
    else:
        beaten = np.searchsorted(e, v, side="left")  # cuts strictly below v
    score = (1 + beaten).astype(np.int64)
    if e[0] == e[-1]:
        score[v == e[0]] = 3
    return score


def scores(
    cuts: RfmCuts, recency_days: np.ndarray, frequency: np.ndarray, monetary: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R, F and M scores (int64, 1..5) against stored cut points."""
    return (
        _score(cuts.recency, recency_days, lower_is_better=True),
        _score(cuts.frequency, frequency, lower_is_better=False),
        _score(cuts.monetary, monetary, lower_is_better=False),
    )


def _fm(f: np.ndarray, m: np.ndarray) -> np.ndarray:
    return (np.asarray(f, dtype=np.int64) + np.asarray(m, dtype=np.int64) + 1) // 2


def segment(r: int, f: int, m: int) -> str:
    for name, value in (("r", r), ("f", f), ("m", m)):
        if not 1 <= int(value) <= 5:
            raise ValueError(f"RFM score {name} must be 1 to 5, not {value}")
    return GRID[int(r) - 1][int(_fm(np.array(f), np.array(m))) - 1]


def segments(r: np.ndarray, f: np.ndarray, m: np.ndarray) -> list[str]:
    ri = np.clip(np.asarray(r, dtype=np.int64), 1, 5) - 1
    fm = np.clip(_fm(f, m), 1, 5) - 1
    return [str(s) for s in _GRID[ri, fm].tolist()]
