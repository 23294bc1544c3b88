"""The KPI arithmetic on plain numbers: rates, liability, ROI, cohort shares, date ranges."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from punchcard.analytics.kpis import domain


def test_a_ratio_over_nothing_is_none_not_zero() -> None:
    assert domain.ratio(0, 0) is None
    assert domain.ratio(1, 3) == Decimal("0.333333")
    assert domain.ratio(2, 3) == Decimal("0.666667")


def test_redemption_rate_counts_donations_as_used() -> None:
    assert domain.redemption_rate(redeemed=60, donated=15, issued=300) == Decimal("0.25")
    assert domain.redemption_rate(redeemed=10, donated=0, issued=0) is None


def test_breakage_is_the_expired_share_of_points_that_left() -> None:
    assert domain.breakage_rate(expired=25, redeemed=60, donated=15) == Decimal("0.25")
    assert domain.breakage_rate(expired=0, redeemed=0, donated=0) is None


@pytest.mark.parametrize(
    ("setting", "observed", "source", "points", "money"),
    [
        (Decimal("0.2"), Decimal("0.5"), "setting", 800, Decimal("4.00")),
        (None, Decimal("0.5"), "observed", 500, Decimal("2.50")),
        (None, None, "none", 1000, Decimal("5.00")),
    ],
)
def test_liability_deducts_the_setting_else_the_observed_breakage(
    setting: Decimal | None, observed: Decimal | None, source: str, points: int, money: Decimal
) -> None:
    found = domain.liability(
        outstanding=1000, point_value=Decimal("0.005"), setting=setting, observed=observed
    )

    assert (found.breakage_source, found.expected_redeemable_points, found.money) == (
        source,
        points,
        money,
    )


def test_liability_without_a_point_value_is_in_points_only() -> None:
    found = domain.liability(outstanding=3, point_value=None, setting=Decimal("0.5"), observed=None)

    assert (found.expected_redeemable_points, found.money) == (2, None)  # 1.5 rounds half up


def test_roi_is_net_return_per_unit_of_cost() -> None:
    assert domain.roi(attributable_revenue=Decimal("300"), cost=Decimal("100")) == Decimal(2)
    assert domain.roi(attributable_revenue=Decimal("50"), cost=Decimal("100")) == Decimal("-0.5")
    assert domain.roi(attributable_revenue=Decimal("50"), cost=Decimal(0)) is None
    assert domain.roi(attributable_revenue=Decimal("50"), cost=None) is None


def test_cohort_shares_run_from_the_enrolment_month_to_the_last() -> None:
    sizes = {"2025-11": 4, "2026-01": 2}
    active = {("2025-11", "2025-11"): 4, ("2025-11", "2026-01"): 1, ("2026-01", "2026-01"): 1}

    found = domain.cohorts(sizes, active, date(2026, 1, 31))

    assert [(c.month, c.members, c.shares) for c in found] == [
        ("2025-11", 4, [Decimal(1), Decimal(0), Decimal("0.25")]),
        ("2026-01", 2, [Decimal("0.5")]),
    ]


def test_cohorts_stop_after_the_most_offsets() -> None:
    found = domain.cohorts({"2020-01": 1}, {}, date(2026, 1, 1))

    assert len(found[0].shares) == domain.MAX_COHORT_OFFSETS + 1


@pytest.mark.parametrize(
    ("first", "last", "code"),
    [
        (date(2026, 2, 1), date(2026, 1, 31), "invalid_date_range"),
        (date(1899, 12, 31), date(2026, 1, 1), "date_out_of_range"),
        (date(2026, 1, 1), date(9999, 12, 31), "date_out_of_range"),
    ],
)
def test_bad_ranges_are_refused_with_a_code(first: date, last: date, code: str) -> None:
    with pytest.raises(domain.RangeError) as caught:
        domain.check_range(first, last)

    assert caught.value.code == code


def test_a_range_is_whole_utc_days() -> None:
    span = domain.check_range(date(2026, 1, 1), date(2026, 1, 1))

    assert (span.stop - span.start).days == 1
    assert span.start.tzinfo is not None


def test_observed_breakage_needs_enough_settled_points() -> None:
    from decimal import Decimal

    from punchcard.analytics.kpis import domain

    # 10 expired of 10 settled out of 1,010 issued: no evidence yet.
    assert domain.observed_breakage(expired=10, redeemed=0, donated=0, issued=1010) is None
    # 1,000 settled but under a quarter of 10,000 issued: still none.
    assert domain.observed_breakage(expired=500, redeemed=500, donated=0, issued=10_000) is None
    # 1,000 settled of 4,000 issued: the observed share stands.
    found = domain.observed_breakage(expired=300, redeemed=600, donated=100, issued=4000)
    assert found == Decimal("0.300000")
    rate = domain.redemption_rate(redeemed=30, donated=0, issued=-20)
    assert rate is None
    assert domain.liability(
        outstanding=3, point_value=Decimal("1.00"), setting=Decimal("0.5"), observed=None
    ).money == Decimal("2.00")
