"""The array arithmetic of the snapshots (analytics/kpis/columns.py) on rows small enough to
count by hand: storage round trip, member positions, buyers and churn, cohorts (both ways of
counting distinct buyers), activity windows and daily sums."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np

from punchcard.analytics.kpis import columns as col
from punchcard.analytics.kpis.domain import Buyers


def _ints(*values: int) -> col.Ints:
    return np.array(values, dtype=np.int64)


def test_columns_round_trip_in_their_narrowest_type() -> None:
    data = {"a": _ints(1, -2, 3), "big": _ints(0, 1 << 40), "names": np.array(["x", "yy"])}

    found = col.unpack(col.pack(data))

    assert found["a"].dtype == np.int8
    assert found["big"].dtype == np.int64
    assert found["a"].tolist() == [1, -2, 3]
    assert found["big"].tolist() == [0, 1 << 40]
    assert found["names"].tolist() == ["x", "yy"]
    assert col.stack([found, found], ("a",))["a"].tolist() == [1, -2, 3, 1, -2, 3]


D = col.day_number


def _members() -> col.Members:
    # Ids out of order on purpose; 40 holds Silver; channels web (0) and app (1).
    return col.members(
        ids=_ints(40, 10, 20),
        created=_ints(D(date(2026, 1, 15)), D(date(2026, 1, 20)), D(date(2026, 2, 3))),
        channels=["web", "app"],
        channel_codes=_ints(0, 1, 1),
        tiers={"Silver": _ints(40, 99)},  # 99 is not a member of this program
    )


def test_positions_follow_the_sorted_ids() -> None:
    m = _members()

    assert m.ids.tolist() == [10, 20, 40]
    assert m.positions(_ints(40, 10, 40)).tolist() == [2, 0, 2]
    assert m.segments[int(m.segment[2])] == ("web", "Silver")
    assert m.segments[int(m.segment[0])] == ("app", None)


def _span(first: date, last: date) -> col.Span:
    stop = D(last) + 1
    return col.Span(D(first), stop, D(first) - 90, stop - 30, stop - 90)


def _orders(m: col.Members) -> dict[str, col.Ints]:
    rows = {
        "member": _ints(40, 10, 40, 20, 40),
        "day": _ints(
            *(D(date(2026, mo, d)) for mo, d in ((1, 16), (1, 21), (2, 5), (2, 4), (2, 11)))
        ),
        "net": _ints(12000, 3000, 3000, 2000, 4000),
        "counted": _ints(1, 1, 1, 1, 0),  # the last one was refunded in full... net kept as given
    }
    rows["pos"] = m.positions(rows["member"])
    return rows


def test_buyers_repeat_and_churn_per_segment() -> None:
    m = _members()
    found = col.buyers(m, _orders(m), _span(date(2026, 2, 1), date(2026, 3, 10)))

    assert found[("web", "Silver")] == Buyers(1, Decimal("70.00"), 1, 0, 1, 0)
    assert found[("app", None)] == Buyers(1, Decimal("20.00"), 1, 0, 1, 1)


def test_cohorts_count_distinct_buyers_both_ways() -> None:
    m = _members()
    span = _span(date(2026, 1, 15), date(2026, 3, 10))
    sizes, active = col.cohort_counts(m, _orders(m), span)

    assert sizes == {"2026-01": 2, "2026-02": 1}
    assert active == {
        ("2026-01", "2026-01"): 2,
        ("2026-01", "2026-02"): 1,
        ("2026-02", "2026-02"): 1,
    }
    cohort_of = _ints(24312, 24312, 24313)
    pos, months = _ints(0, 0, 2, 1, 2), _ints(24312, 24312, 24313, 24313, 24313)
    bitmap = col._buyers_per_cell(cohort_of, pos, months)
    far = col._buyers_per_cell(cohort_of, _ints(*pos, 1), _ints(*months, 24312 + 10**8))
    assert bitmap == {(24312, 24312): 1, (24312, 24313): 1, (24313, 24313): 1}
    # A range of months too long for a bitmap sorts instead, with the same counts.
    assert {k: v for k, v in far.items() if k[1] < 10**8} == bitmap
    assert far[(24312, 24312 + 10**8)] == 1


def test_active_members_take_each_members_last_event() -> None:
    m = _members()
    events = {
        "member": _ints(40, 40, 20),
        "day": _ints(D(date(2026, 1, 1)), D(date(2026, 3, 1)), D(date(2026, 1, 2))),
    }
    events["pos"] = m.positions(events["member"])

    found = col.headcounts(m, events, _span(date(2026, 3, 1), date(2026, 3, 10)))

    # [members, enrolled, active_90, active_30]
    assert found[("web", "Silver")] == [1, 0, 1, 1]
    assert found[("app", None)] == [2, 0, 1, 0]


def test_daily_sums_per_key_within_the_range() -> None:
    rows = {
        "day": _ints(D(date(2026, 1, 1)), D(date(2026, 2, 1)), D(date(2026, 2, 2))),
        "key": _ints(0, 0, 1),
        "n": _ints(1, 2, 5),
    }

    found = col.grouped(rows, ["base", "promo"], _span(date(2026, 2, 1), date(2026, 2, 28)))

    assert found == {"base": (2,), "promo": (5,)}
