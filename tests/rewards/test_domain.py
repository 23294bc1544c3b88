"""Eligibility and the per-type rules of the catalog, as pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from punchcard.rewards.domain import (
    MemberStanding,
    Refusal,
    RewardRuleError,
    RewardType,
    RewardView,
    check_window,
    experience_start,
    impact_text,
    normalise_details,
    normalise_value,
    refusals,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def reward(**changes: Any) -> RewardView:
    base = RewardView(
        id=7,
        program_id=1,
        name="5 off",
        type=RewardType.DISCOUNT_AMOUNT,
        points_cost=500,
        value="5.00",
        cause_id=None,
        stock=None,
        claimed=0,
        per_member_limit=None,
        valid_from=None,
        valid_until=None,
        tiers=None,
        channels=None,
        code_valid_days=90,
        active=True,
    )
    return replace(base, **changes)


def member(**changes: Any) -> MemberStanding:
    base = MemberStanding(available=1000, debt=0, tier=None, redeemed={})
    return replace(base, **changes)


# --- refusals ------------------------------------------------------------------------------


def test_a_member_with_enough_points_may_redeem_an_open_reward() -> None:
    assert refusals(reward(), member(), now=NOW) == []


def test_unlimited_stock_never_runs_out() -> None:
    view = reward(stock=None, claimed=10_000)

    assert view.remaining is None
    assert refusals(view, member(), now=NOW) == []


def test_a_retired_reward_is_inactive() -> None:
    assert refusals(reward(active=False), member(), now=NOW) == [Refusal.REWARD_INACTIVE]


def test_validity_starts_exactly_at_valid_from() -> None:
    assert refusals(reward(valid_from=NOW), member(), now=NOW) == []
    assert refusals(reward(valid_from=NOW + HOUR), member(), now=NOW) == [Refusal.REWARD_INACTIVE]


def test_validity_ends_exactly_at_valid_until_which_is_excluded() -> None:
    assert refusals(reward(valid_until=NOW), member(), now=NOW) == [Refusal.REWARD_INACTIVE]
    assert refusals(reward(valid_until=NOW + HOUR), member(), now=NOW) == []


def test_an_experience_is_off_offer_from_its_start() -> None:
    event = reward(type=RewardType.EXPERIENCE, value=None, starts_at=NOW)
    assert refusals(event, member(), now=NOW) == [Refusal.REWARD_INACTIVE]
    assert refusals(replace(event, starts_at=NOW + HOUR), member(), now=NOW) == []
    assert refusals(replace(event, starts_at=None), member(), now=NOW) == []  # early access


def test_an_experience_start_is_read_from_its_details() -> None:
    details = {"kind": "event", "starts_at": "2026-03-01T13:00:00+01:00"}
    assert experience_start(RewardType.EXPERIENCE, details) == NOW
    assert experience_start(RewardType.EXPERIENCE, {"kind": "early_access"}) is None
    assert experience_start(RewardType.EXPERIENCE, {"starts_at": "soon"}) is None
    assert experience_start(RewardType.DISCOUNT_AMOUNT, details) is None


def test_a_tier_restricted_reward_refuses_other_tiers_and_members_without_one() -> None:
    view = reward(tiers=frozenset({"gold"}))

    assert refusals(view, member(tier="gold"), now=NOW) == []
    assert refusals(view, member(tier="silver"), now=NOW) == [Refusal.NOT_ELIGIBLE]
    assert refusals(view, member(tier=None), now=NOW) == [Refusal.NOT_ELIGIBLE]


def test_a_reward_limited_to_channels_needs_one_of_them_named() -> None:
    """Leaving the channel out must not open an app-only reward to every channel."""
    view = reward(channels=frozenset({"app"}))

    assert refusals(view, member(), now=NOW, channel="app") == []
    assert refusals(view, member(), now=NOW, channel="pos") == [Refusal.NOT_ELIGIBLE]
    assert refusals(view, member(), now=NOW) == [Refusal.NOT_ELIGIBLE]
    assert refusals(reward(), member(), now=NOW) == []
    assert refusals(reward(), member(), now=NOW, channel="pos") == []


def test_tier_and_channel_together_give_one_not_eligible() -> None:
    view = reward(tiers=frozenset({"gold"}), channels=frozenset({"app"}))

    assert refusals(view, member(), now=NOW, channel="pos") == [Refusal.NOT_ELIGIBLE]


def test_out_of_stock_when_everything_is_claimed() -> None:
    assert refusals(reward(stock=3, claimed=3), member(), now=NOW) == [Refusal.OUT_OF_STOCK]
    assert refusals(reward(stock=3, claimed=2), member(), now=NOW) == []
    assert refusals(reward(stock=0), member(), now=NOW) == [Refusal.OUT_OF_STOCK]


def test_per_member_limit_counts_this_rewards_redemptions_only() -> None:
    view = reward(per_member_limit=2)

    assert refusals(view, member(redeemed={7: 2}), now=NOW) == [Refusal.LIMIT_REACHED]
    assert refusals(view, member(redeemed={7: 1, 8: 5}), now=NOW) == []


def test_insufficient_points_below_the_cost_and_not_at_it() -> None:
    assert refusals(reward(), member(available=499), now=NOW) == [Refusal.INSUFFICIENT_POINTS]
    assert refusals(reward(), member(available=500), now=NOW) == []


def test_debt_is_named_instead_of_insufficient_points() -> None:
    found = refusals(reward(), member(available=0, debt=50), now=NOW)

    assert found == [Refusal.DEBT_OUTSTANDING]


def test_every_reason_at_once_most_fundamental_first() -> None:
    view = reward(active=False, tiers=frozenset({"gold"}), stock=1, claimed=1, per_member_limit=1)
    poor = member(available=10, redeemed={7: 1})

    assert refusals(view, poor, now=NOW) == [
        Refusal.REWARD_INACTIVE,
        Refusal.NOT_ELIGIBLE,
        Refusal.OUT_OF_STOCK,
        Refusal.LIMIT_REACHED,
        Refusal.INSUFFICIENT_POINTS,
    ]
    assert refusals(view, replace(poor, debt=1), now=NOW)[-1] is Refusal.DEBT_OUTSTANDING


# --- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        (RewardType.DISCOUNT_AMOUNT, 5, "5.00"),
        (RewardType.DISCOUNT_AMOUNT, "7.5", "7.50"),
        (RewardType.GIFT_CARD, 25.25, "25.25"),
        (RewardType.GIFT_CARD, " 10.00 ", "10.00"),
        (RewardType.DISCOUNT_PERCENT, 15, "15"),
        (RewardType.DISCOUNT_PERCENT, "100.0", "100"),
        (RewardType.FREE_PRODUCT, " SKU-123 ", "SKU-123"),
        (RewardType.FREE_PRODUCT, 4711, "4711"),
        (RewardType.DONATION, "12", "12"),
        (RewardType.DONATION, 12, "12"),
        (RewardType.FREE_SHIPPING, None, None),
        (RewardType.EXPERIENCE, None, None),
    ],
)
def test_values_are_normalised(kind: RewardType, raw: Any, stored: str | None) -> None:
    assert normalise_value(kind, raw) == stored


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (RewardType.DISCOUNT_AMOUNT, None),
        (RewardType.DISCOUNT_AMOUNT, 0),
        (RewardType.DISCOUNT_AMOUNT, "-1"),
        (RewardType.DISCOUNT_AMOUNT, "5.001"),
        (RewardType.DISCOUNT_AMOUNT, "NaN"),
        (RewardType.DISCOUNT_AMOUNT, "Infinity"),
        (RewardType.DISCOUNT_AMOUNT, "five"),
        (RewardType.GIFT_CARD, "1000000000.01"),
        (RewardType.DISCOUNT_PERCENT, 0),
        (RewardType.DISCOUNT_PERCENT, 101),
        (RewardType.DISCOUNT_PERCENT, 12.5),
        (RewardType.FREE_PRODUCT, "  "),
        (RewardType.DONATION, "abc"),
        (RewardType.DONATION, 0),
        (RewardType.DONATION, 1.5),
        (RewardType.DONATION, str(2**63)),
        (RewardType.FREE_SHIPPING, "5.00"),
        (RewardType.EXPERIENCE, "vip"),
    ],
)
def test_values_that_do_not_fit_the_type_are_refused(kind: RewardType, raw: Any) -> None:
    with pytest.raises(RewardRuleError) as caught:
        normalise_value(kind, raw)

    assert caught.value.field == "value"


def test_an_event_needs_its_start_stored_in_utc() -> None:
    details = normalise_details(
        RewardType.EXPERIENCE,
        {"kind": "event", "starts_at": "2026-06-01T20:00:00+02:00", "place": "Lyon", "x": 1},
    )

    assert details == {
        "kind": "event",
        "starts_at": "2026-06-01T18:00:00Z",
        "place": "Lyon",
        "x": 1,
    }


def test_early_access_needs_no_date() -> None:
    assert normalise_details(RewardType.EXPERIENCE, {"kind": "early_access"}) == {
        "kind": "early_access"
    }


@pytest.mark.parametrize(
    ("details", "field"),
    [
        (None, "details.kind"),
        ({}, "details.kind"),
        ({"kind": "concert"}, "details.kind"),
        ({"kind": "event"}, "details.starts_at"),
        ({"kind": "event", "starts_at": "next friday"}, "details.starts_at"),
        ({"kind": "event", "starts_at": "2026-06-01T18:00Z", "ends_at": "2026-06-01T17:00Z"},
         "details.ends_at"),
        ({"kind": "early_access", "place": 5}, "details.place"),
    ],
)  # fmt: skip
def test_experience_details_are_checked(details: dict[str, Any] | None, field: str) -> None:
    with pytest.raises(RewardRuleError) as caught:
        normalise_details(RewardType.EXPERIENCE, details)

    assert caught.value.field == field


def test_other_types_keep_their_details_as_given() -> None:
    assert normalise_details(RewardType.FREE_PRODUCT, {"image": "a.png"}) == {"image": "a.png"}
    assert normalise_details(RewardType.FREE_PRODUCT, None) is None


def test_the_window_must_end_after_it_starts() -> None:
    check_window(NOW, NOW + HOUR)
    check_window(None, NOW)
    check_window(NOW, None)
    with pytest.raises(RewardRuleError):
        check_window(NOW, NOW)


def test_impact_reads_as_one_unit_per_so_many_points() -> None:
    assert impact_text(500, "tree", "points") == "1 tree per 500 points"
