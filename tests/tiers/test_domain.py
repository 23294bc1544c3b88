"""Tier rules with plain values: windows, validity dates, the qualified tier, what an event
and the end of a period change, catching up on missed periods, grants and progress."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from punchcard.tiers import domain
from punchcard.tiers.domain import (
    ChangeKind,
    Downgrade,
    Held,
    Metric,
    Policy,
    Tier,
    Window,
)

D = Decimal
US = timedelta(microseconds=1)


def at(year: int, month: int = 1, day: int = 1, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def ladder(
    window: Window = Window.CALENDAR_YEAR,
    downgrade: Downgrade = Downgrade.ONE_DOWN,
    *,
    metric: Metric = Metric.SPEND,
    grace_days: int = 0,
    base: str = "0",
) -> Policy:
    return Policy(
        metric=metric,
        window=window,
        downgrade=downgrade,
        grace_days=grace_days,
        tiers=(
            Tier("Member", D(base)),
            Tier("Silver", D(200), D("1.25")),
            Tier("Gold", D(500), D("1.5"), ("lounge",)),
            Tier("Black", D(800), D(2), invitation_only=True),
            Tier("Platinum", D(1000), D(3)),
        ),
    )


# --- windows and validity ----------------------------------------------------------------


def test_windows_at_an_event_include_the_event_itself() -> None:
    t = at(2027, 3, 15, 10)
    assert domain.span_at(Window.LIFETIME, t) == (None, t + US)
    assert domain.span_at(Window.CALENDAR_YEAR, t) == (at(2027), t + US)
    assert domain.span_at(Window.ROLLING_12_MONTHS, t) == (at(2026, 3, 15, 10) + US, t + US)


def test_a_rolling_window_in_the_first_year_of_the_calendar_starts_at_the_beginning() -> None:
    """Twelve months before a moment of year 1 is not a date: the window is everything up to
    it (an event dated 0001-06-01 was a 500)."""
    t = at(1, 6, 1)
    assert domain.span_at(Window.ROLLING_12_MONTHS, t) == (None, t + US)
    assert domain.span_at(Window.ROLLING_12_MONTHS, at(2, 6, 1)) == (
        at(1, 6, 1) + US,
        at(2, 6, 1) + US,
    )


def test_the_window_closing_on_new_year_is_the_year_before() -> None:
    assert domain.span_closing(Window.CALENDAR_YEAR, at(2028)) == (at(2027), at(2028))
    b = at(2027, 6, 1)
    assert domain.span_closing(Window.ROLLING_12_MONTHS, b) == (at(2026, 6, 1) + US, b + US)


def test_validity_of_a_qualification() -> None:
    t = at(2026, 12, 31, 23)
    assert domain.validity(Window.LIFETIME, t) is None
    assert domain.validity(Window.CALENDAR_YEAR, t) == at(2028)  # through the end of 2027
    assert domain.validity(Window.ROLLING_12_MONTHS, t) == at(2027, 12, 31, 23)
    assert domain.renewal(Window.CALENDAR_YEAR, at(2028)) == at(2029)
    assert domain.renewal(Window.ROLLING_12_MONTHS, at(2028, 2, 29)) == at(2029, 2, 28)


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (at(2027, 1, 31), 1, at(2027, 2, 28)),
        (at(2028, 2, 29), -12, at(2027, 2, 28)),
        (at(2027, 11, 30), 3, at(2028, 2, 29)),
        (at(2027, 1, 15), -13, at(2025, 12, 15)),
    ],
)
def test_add_months(start: datetime, months: int, end: datetime) -> None:
    assert domain.add_months(start, months) == end


# --- the ladder --------------------------------------------------------------------------


def test_qualified_tier_skips_invitation_only_tiers() -> None:
    policy = ladder()
    assert policy.qualified(D(0)) == "Member"
    assert policy.qualified(D("199.99")) == "Member"
    assert policy.qualified(D(200)) == "Silver"
    assert policy.qualified(D(900)) == "Gold"  # Black is by invitation only
    assert policy.qualified(D(1000)) == "Platinum"
    assert ladder(base="50").qualified(D(10)) is None


def test_the_base_tier_is_the_floor_when_it_asks_for_nothing() -> None:
    assert ladder().base == "Member"
    assert ladder(base="50").base is None
    assert domain.held_or_base(ladder(), None) == Held("Member")
    assert domain.held_or_base(ladder(base="1"), None) == Held(None)


def test_one_below_skips_invitation_only_tiers() -> None:
    policy = ladder()
    assert policy.one_below("Platinum") == "Gold"
    assert policy.one_below("Black") == "Gold"
    assert policy.one_below("Silver") == "Member"
    assert policy.one_below("Member") is None
    assert policy.next_above("Gold") == policy.tiers[4]


def test_problems_of_a_ladder() -> None:
    bad = Policy(
        Metric.POINTS,
        Window.LIFETIME,
        (Tier("Gold", D(10)), Tier("gold", D("10.5")), Tier("Silver", D(5))),
    )
    paths = [p["path"] for p in domain.problems(bad)]
    assert paths == ["tiers[1].name", "tiers[1].threshold", "tiers[2].threshold"]
    cents = Policy(Metric.SPEND, Window.LIFETIME, (Tier("A", D("0.001")),))
    assert [p["path"] for p in domain.problems(cents)] == ["tiers[0].threshold"]
    assert domain.problems(ladder()) == []


# --- at an earning event -----------------------------------------------------------------


def test_an_event_upgrades_when_the_metric_crosses_a_threshold() -> None:
    policy = ladder()
    t = at(2027, 5, 1)
    change = domain.at_event(policy, Held("Member"), D("512.30"), t, "evt-1")
    assert change is not None
    assert (change.kind, change.from_tier, change.to_tier) == (
        ChangeKind.UPGRADED,
        "Member",
        "Gold",
    )
    assert change.valid_until == at(2029)
    assert change.metric_value == "512.30"
    assert change.event == "tier.upgraded"
    assert "evt-1" in change.reason


def test_an_event_never_downgrades() -> None:
    held = Held("Gold", at(2026), at(2028))
    assert domain.at_event(ladder(), held, D(10), at(2027, 5, 1)) is None


def test_an_event_renews_the_same_tier_only_with_a_later_validity() -> None:
    policy = ladder(Window.ROLLING_12_MONTHS)
    held = Held("Gold", at(2026, 6, 1), at(2027, 6, 1))
    renewed = domain.at_event(policy, held, D(600), at(2027, 6, 10))
    assert renewed is not None
    assert renewed.kind is ChangeKind.RENEWED
    assert renewed.event is None
    assert renewed.valid_until == at(2028, 6, 10)
    assert domain.apply(held, renewed).since == at(2026, 6, 1)
    calendar = Held("Gold", at(2026, 3, 1), at(2028))
    assert domain.at_event(ladder(), calendar, D(600), at(2026, 9, 1)) is None  # same date


def test_the_floor_never_expires() -> None:
    policy = ladder(base="100")
    change = domain.at_event(policy, Held(None), D(150), at(2027, 5, 1))
    assert change is not None
    assert change.to_tier == "Member"
    assert change.valid_until is None
    assert domain.at_event(policy, Held("Member", at(2027)), D(150), at(2028)) is None


def test_an_invitation_tier_is_not_left_for_a_lower_one_at_an_event() -> None:
    held = Held("Black", at(2027), at(2028), granted=True)
    assert domain.at_event(ladder(), held, D(600), at(2027, 2, 1)) is None
    up = domain.at_event(ladder(), held, D(1200), at(2027, 2, 1))
    assert up is not None
    assert up.to_tier == "Platinum"


# --- at the end of the period ------------------------------------------------------------


def test_one_down_drops_one_tier_however_low_the_metric() -> None:
    held = Held("Platinum", at(2026, 2, 1), at(2028))
    change = domain.at_boundary(ladder(), held, D(0))
    assert (change.kind, change.to_tier) == (ChangeKind.DOWNGRADED, "Gold")
    assert change.occurred_at == at(2028)
    assert change.valid_until == at(2029)  # the next period, counted from the boundary
    assert change.event == "tier.downgraded"


def test_recalculate_goes_straight_to_the_qualified_tier() -> None:
    held = Held("Platinum", at(2026, 2, 1), at(2028))
    change = domain.at_boundary(ladder(downgrade=Downgrade.RECALCULATE), held, D(250))
    assert change.to_tier == "Silver"
    floor = domain.at_boundary(ladder(downgrade=Downgrade.RECALCULATE), held, D(0))
    assert floor.to_tier == "Member"
    assert floor.valid_until is None
    nothing = domain.at_boundary(ladder(downgrade=Downgrade.RECALCULATE, base="100"), held, D(0))
    assert nothing.to_tier is None
    assert domain.apply(held, nothing) == Held(None)


def test_one_down_keeps_a_higher_qualified_tier() -> None:
    held = Held("Platinum", at(2026, 2, 1), at(2028))
    change = domain.at_boundary(ladder(), held, D(1500))
    assert (change.kind, change.to_tier, change.valid_until) == (
        ChangeKind.RENEWED,
        "Platinum",
        at(2029),
    )
    assert domain.apply(held, change).since == at(2026, 2, 1)


def test_grace_delays_the_end_of_a_period() -> None:
    policy = ladder(Window.ROLLING_12_MONTHS, grace_days=30)
    held = Held("Gold", at(2026, 5, 1), at(2027, 5, 1))
    assert not domain.due(policy, held, at(2027, 5, 30))
    assert domain.due(policy, held, at(2027, 5, 31))
    assert not domain.due(policy, Held("Member"), at(2099))


def test_catch_up_judges_each_period_at_its_own_boundary() -> None:
    """Gold in 2026 (valid to 2028); 2027 spend 600 (renew to 2029), 2028 spend 250 (one down
    to Silver, to 2030), 2029 nothing (one down to the floor, which never expires)."""
    spend = {2027: D(600), 2028: D(250), 2029: D(0)}
    asked: list[datetime] = []

    def metric_at(boundary: datetime) -> Decimal:
        asked.append(boundary)
        lo, hi = domain.span_closing(Window.CALENDAR_YEAR, boundary)
        assert lo is not None
        assert hi == boundary
        return spend[lo.year]

    held = Held("Gold", at(2026, 4, 1), at(2028))
    final, changes = domain.catch_up(ladder(), held, at(2031, 6, 1), metric_at)
    assert asked == [at(2028), at(2029), at(2030)]
    assert [(c.kind, c.to_tier) for c in changes] == [
        (ChangeKind.RENEWED, "Gold"),
        (ChangeKind.DOWNGRADED, "Silver"),
        (ChangeKind.DOWNGRADED, "Member"),
    ]
    assert final == Held("Member", at(2030), None)
    # Run again later: nothing left to do. Run in the middle: only what was due then.
    assert domain.catch_up(ladder(), final, at(2040), metric_at)[1] == []
    partial, done = domain.catch_up(ladder(), held, at(2028, 6, 1), metric_at)
    assert len(done) == 1
    assert partial.valid_until == at(2029)


def test_catch_up_with_recalculate_and_a_rolling_window() -> None:
    policy = ladder(Window.ROLLING_12_MONTHS, Downgrade.RECALCULATE)
    held = Held("Platinum", at(2026, 3, 10), at(2027, 3, 10))
    values = iter([D(1200), D(300), D(0)])
    final, changes = domain.catch_up(policy, held, at(2030, 1, 1), lambda _: next(values))
    assert [c.to_tier for c in changes] == ["Platinum", "Silver", "Member"]
    assert [c.occurred_at for c in changes] == [at(2027, 3, 10), at(2028, 3, 10), at(2029, 3, 10)]
    assert final.valid_until is None


# --- grants and progress -----------------------------------------------------------------


def test_a_grant_sets_any_tier_with_its_own_or_the_usual_validity() -> None:
    policy = ladder(Window.ROLLING_12_MONTHS)
    now = at(2027, 2, 1)
    change = domain.grant(policy, Held("Silver"), "Black", reason="VIP", now=now)
    assert (change.kind, change.event, change.valid_until) == (
        ChangeKind.GRANTED,
        "tier.upgraded",
        at(2028, 2, 1),
    )
    assert domain.apply(Held("Silver"), change) == Held("Black", now, at(2028, 2, 1), True)
    down = domain.grant(
        policy, Held("Gold"), "Silver", reason="fraud", now=now, valid_until=at(2030)
    )
    assert (down.event, down.valid_until) == ("tier.downgraded", at(2030))
    same = domain.grant(policy, Held("Gold"), "Gold", reason="goodwill", now=now)
    assert same.event is None


def test_progress_messages() -> None:
    now = at(2027, 3, 1)
    spend = domain.progress(ladder(), Held("Silver"), D("417.60"), now)
    assert spend is not None
    assert spend.message == "spend 82.40 more by 2027-12-31 to reach Gold"
    assert (spend.next_tier, spend.needed, spend.by) == ("Gold", D("82.40"), date(2027, 12, 31))
    points = domain.progress(
        ladder(Window.LIFETIME, metric=Metric.POINTS), Held("Gold"), D(900), now
    )
    assert points is not None
    assert points.message == "earn 100 more points to reach Platinum"
    rolling = domain.progress(ladder(Window.ROLLING_12_MONTHS), Held(None), D(0), now)
    assert rolling is not None
    assert rolling.next_tier == "Member"
    assert rolling.by is None
    assert domain.progress(ladder(), Held("Platinum"), D(0), now) is None
