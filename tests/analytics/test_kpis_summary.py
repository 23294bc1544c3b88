"""GET /v1/analytics/summary on the hand-computed program of tests/analytics/kpi_helpers.py:
one test per KPI, each asserting the value worked out by hand there."""

from __future__ import annotations

from typing import Any

import pytest

from tests.analytics import kpi_helpers
from tests.analytics.kpi_helpers import FIRST, LAST, Shop

shop_fixture = kpi_helpers.shop_fixture


@pytest.fixture(scope="module")
def whole(shop: Shop) -> dict[str, Any]:
    """The default range: the program's first day to the clock's today (Mar 10)."""
    return shop.summary()


@pytest.fixture(scope="module")
def february(shop: Shop) -> dict[str, Any]:
    return shop.summary("2026-02-01", "2026-03-10")


def test_the_default_range_runs_from_the_first_day_to_today(whole: dict[str, Any]) -> None:
    assert (whole["from"], whole["to"]) == (str(FIRST), str(LAST))


def test_members_enrolled(whole: dict[str, Any], february: dict[str, Any]) -> None:
    assert (whole["members"]["enrolled"], whole["members"]["total"]) == (3, 3)
    assert (february["members"]["enrolled"], february["members"]["total"]) == (1, 3)


def test_active_members_30_and_90_days(whole: dict[str, Any], shop: Shop) -> None:
    # The 30 days to Mar 10 start on Feb 9: only A (a3 on Feb 11). All three within 90.
    assert (whole["members"]["active_30d"], whole["members"]["active_90d"]) == (1, 3)
    # To Feb 5: 30 days from Jan 7: A, B and C all ordered.
    early = shop.summary(last="2026-02-05")
    assert (early["members"]["active_30d"], early["members"]["active_90d"]) == (3, 3)


def test_points_issued_net_of_reversals(whole: dict[str, Any], february: dict[str, Any]) -> None:
    assert whole["points"]["issued"] == 240
    assert february["points"]["issued"] == 20 + 30 + 40


def test_points_redeemed_and_expired(whole: dict[str, Any], shop: Shop) -> None:
    assert (whole["points"]["redeemed"], whole["points"]["expired"]) == (100, 100)
    before_expiry = shop.summary(last="2026-03-09")
    assert (before_expiry["points"]["redeemed"], before_expiry["points"]["expired"]) == (100, 0)


def test_points_outstanding_as_of_to(whole: dict[str, Any], shop: Shop) -> None:
    assert whole["points"]["outstanding"] == 40
    # On Feb 10, after the redemption: A 120 + 30 - 100, B 30, C 20.
    assert shop.summary(last="2026-02-10")["points"]["outstanding"] == 50 + 30 + 20
    assert whole["points"]["pending"] == 0
    assert whole["points"]["debt"] == 0


def test_redemption_and_breakage_rates(whole: dict[str, Any]) -> None:
    assert whole["rates"]["redemption_rate"] == pytest.approx(100 / 240, abs=1e-6)
    assert whole["rates"]["breakage_rate"] == 0.5


def test_liability_deducts_no_breakage_from_too_few_settled_points(
    whole: dict[str, Any],
) -> None:
    """Half of the 20 settled points expired, but 20 points are no evidence (fewer than
    1,000 settled): the whole balance counts, and a note says why."""
    assert whole["liability"] == {
        "outstanding_points": 40,
        "expected_breakage": 0.0,
        "breakage_source": "none",
        "expected_redeemable_points": 40,
        "point_value": "0.010000",
        "money": "0.40",
    }
    assert any("too few points" in note for note in whole["notes"])


def test_orders_repeat_purchase_aov_and_frequency(whole: dict[str, Any]) -> None:
    assert whole["orders"] == {
        "orders": 5,
        "revenue": "240.00",
        "buyers": 3,
        "repeat_buyers": 1,
        "repeat_purchase_rate": 0.333333,
        "average_order_value": "48.00",
        "purchase_frequency": 1.666667,
    }


def test_retention_by_monthly_enrolment_cohort(whole: dict[str, Any]) -> None:
    assert whole["retention"] == [
        {"cohort": "2026-01", "members": 2, "retention": [1.0, 0.5, 0.0]},
        {"cohort": "2026-02", "members": 1, "retention": [1.0, 0.0]},
    ]


def test_churn(february: dict[str, Any], whole: dict[str, Any]) -> None:
    # A and B ordered in the 90 days before Feb 1; B did not order again by Mar 10.
    assert february["churn"] == {"window_days": 90, "base": 2, "churned": 1, "churn_rate": 0.5}
    assert whole["churn"]["churn_rate"] is None


def test_tier_mix(whole: dict[str, Any]) -> None:
    assert whole["tier_mix"] == [
        {"tier": "Bronze", "members": 2, "share": 0.666667},
        {"tier": "Silver", "members": 1, "share": 0.333333},
    ]


def test_by_channel(whole: dict[str, Any]) -> None:
    rows = {row.pop("channel"): row for row in whole["by_channel"]}
    assert rows == {
        "web": _segment(1, 1, 1, 190, 100, 3, "190.00"),
        "app": _segment(1, 0, 1, 30, 0, 1, "30.00"),
        "pos": _segment(1, 0, 1, 20, 0, 1, "20.00"),
    }


def test_by_tier(whole: dict[str, Any]) -> None:
    rows = {row.pop("tier"): row for row in whole["by_tier"]}
    assert rows == {
        "Bronze": _segment(2, 0, 2, 50, 0, 2, "50.00"),
        "Silver": _segment(1, 1, 1, 190, 100, 3, "190.00"),
    }


def test_cost_and_revenue_per_campaign(whole: dict[str, Any]) -> None:
    assert whole["campaigns"] == [
        {
            "rule_id": "base",
            "awards": 5,
            "points": 240,
            "cost": "2.40",
            "orders": 5,
            "revenue": "240.00",
        },
    ]


def test_cost_and_revenue_per_reward(whole: dict[str, Any], shop: Shop) -> None:
    assert whole["rewards"] == [
        {
            "reward_id": shop.reward_id,
            "name": "5 off",
            "redemptions": 1,
            "points": 100,
            "cost": "1.00",
            "orders": 1,
            "revenue": "40.00",
        },
    ]


def test_program_roi(whole: dict[str, Any]) -> None:
    roi = dict(whole["roi"])
    assert roi.pop("method").startswith("attributable revenue")
    assert roi == {
        "attributable_orders": 1,
        "attributable_revenue": "40.00",
        "cost": "1.00",
        "accrual_cost": "2.40",
        "roi": 39.0,
    }


def _segment(
    members: int,
    active_30: int,
    active_90: int,
    issued: int,
    redeemed: int,
    orders: int,
    revenue: str,
) -> dict[str, Any]:
    return {
        "members": members,
        "active_30d": active_30,
        "active_90d": active_90,
        "points_issued": issued,
        "points_redeemed": redeemed,
        "orders": orders,
        "revenue": revenue,
    }
