"""RFM quintile scores against stored cut points, ties, tiny populations, segments."""

from __future__ import annotations

import json

import numpy as np
import pytest

from punchcard.analytics.prediction import rfm
from punchcard.analytics.prediction.errors import PredictionInputError
from punchcard.analytics.prediction.rfm import RfmCuts


def test_distinct_values_fall_into_equal_quintiles() -> None:
    values = np.arange(1.0, 11.0)  # 1..10
    cuts = rfm.cuts(values, values, values)
    assert cuts.frequency == pytest.approx((2.8, 4.6, 6.4, 8.2))
    r, f, m = rfm.scores(cuts, values, values, values)
    assert f.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert m.tolist() == f.tolist()
    # Recency: fewer days since the last purchase is better.
    assert r.tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_ties_take_the_lower_score() -> None:
    # 6 of 10 customers bought once: they beat nobody, so F = 1 (else "new" is unreachable).
    frequency = np.array([1, 1, 1, 1, 1, 1, 2, 2, 3, 9], dtype=float)
    cuts = rfm.cuts(np.zeros(10), frequency, frequency)
    assert cuts.frequency == pytest.approx((1.0, 1.0, 1.4, 2.2))
    _, f, _ = rfm.scores(cuts, np.zeros(10), frequency, frequency)
    assert f.tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    # Recency ties at a cut: 5 customers bought 0 days ago, 5 bought 10 days ago.
    recency = np.array([0.0] * 5 + [10.0] * 5)
    r, _, _ = rfm.scores(rfm.cuts(recency, frequency, frequency), recency, frequency, frequency)
    assert r.tolist() == [3] * 5 + [1] * 5


@pytest.mark.parametrize("n", [1, 2, 7])
def test_identical_customers_and_tiny_populations_score_in_the_middle(n: int) -> None:
    same = np.full(n, 4.0)
    cuts = rfm.cuts(same, same, same)
    r, f, m = rfm.scores(cuts, same, same, same)
    assert r.tolist() == f.tolist() == m.tolist() == [3] * n
    # Against such cuts, anyone better scores 5 and anyone worse 1.
    r, f, m = rfm.scores(cuts, np.array([1.0, 9.0]), np.array([9.0, 1.0]), np.array([9.0, 1.0]))
    assert r.tolist() == f.tolist() == m.tolist() == [5, 1]


def test_two_customers_split_the_scale() -> None:
    cuts = rfm.cuts(np.array([1.0, 90.0]), np.array([5.0, 1.0]), np.array([500.0, 10.0]))
    r, f, m = rfm.scores(cuts, np.array([1.0, 90.0]), np.array([5.0, 1.0]), np.array([500.0, 10.0]))
    assert r.tolist() == [5, 1]
    assert f.tolist() == [5, 1]
    assert m.tolist() == [5, 1]
    assert rfm.segments(r, f, m) == ["champions", "lost"]


def test_one_member_is_scored_against_stored_cuts_after_a_json_round_trip() -> None:
    values = np.arange(1.0, 101.0)
    cuts = rfm.cuts(values, values, values)
    stored = RfmCuts.from_json(json.loads(json.dumps(cuts.as_json())))
    assert stored == cuts
    r, f, m = rfm.scores(stored, np.array([3.0]), np.array([99.0]), np.array([50.0]))
    assert (int(r[0]), int(f[0]), int(m[0])) == (5, 5, 3)
    # Beyond the population's range on either side, still 1..5.
    r, f, m = rfm.scores(stored, np.array([1e6, -1.0]), np.array([0.0, 1e9]), np.array([-5.0, 1e9]))
    assert r.tolist() == [1, 5]
    assert f.tolist() == [1, 5]
    assert m.tolist() == [1, 5]


def test_cuts_from_json_refuse_garbage() -> None:
    good = rfm.cuts(np.arange(5.0), np.arange(5.0), np.arange(5.0)).as_json()
    with pytest.raises(ValueError, match="sorted"):
        RfmCuts.from_json({**good, "frequency": [3, 2, 1, 0]})
    with pytest.raises(ValueError, match="4 sorted"):
        RfmCuts.from_json({**good, "monetary": [1, 2]})


def test_empty_population_has_no_cuts() -> None:
    with pytest.raises(PredictionInputError) as caught:
        rfm.cuts(np.zeros(0), np.zeros(0), np.zeros(0))
    assert caught.value.code == "no_orders"


@pytest.mark.parametrize(
    ("r", "f", "m", "name"),
    [
        (5, 5, 5, "champions"),
        (4, 4, 5, "champions"),
        (5, 1, 1, "new"),
        (4, 1, 1, "promising"),
        (5, 2, 3, "potential_loyalists"),
        (4, 3, 3, "loyal"),
        (3, 5, 4, "loyal"),
        (3, 2, 3, "need_attention"),
        (3, 1, 1, "about_to_sleep"),
        (2, 2, 2, "about_to_sleep"),
        (2, 3, 4, "at_risk"),
        (1, 5, 5, "cannot_lose"),
        (2, 5, 5, "cannot_lose"),
        (2, 1, 1, "hibernating"),
        (1, 2, 2, "hibernating"),
        (1, 1, 1, "lost"),
    ],
)
def test_segment_grid(r: int, f: int, m: int, name: str) -> None:
    assert rfm.segment(r, f, m) == name
    assert rfm.segments(np.array([r]), np.array([f]), np.array([m])) == [name]


def test_every_grid_cell_is_a_known_segment_and_every_segment_is_used() -> None:
    grid = np.array([(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)])
    names = rfm.segments(grid[:, 0], grid[:, 1], grid[:, 2])
    assert names == [rfm.segment(*map(int, row)) for row in grid]
    assert set(names) == set(rfm.SEGMENTS)
    assert len(rfm.SEGMENTS) == 11


def test_segment_refuses_scores_outside_one_to_five() -> None:
    with pytest.raises(ValueError, match="1 to 5"):
        rfm.segment(0, 3, 3)
