"""Streak rules on plain values: periods, advancing, bonuses with repeats, the member view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from punchcard.streaks.domain import Bonus, Period, State, StreakRule, advance, view

MON = datetime(2026, 1, 12, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def rule(period: Period = Period.DAY, repeat_every: int | None = None) -> StreakRule:
    bonuses = (Bonus(3, 50), Bonus(7, 100))
    return StreakRule(1, "s", period, frozenset({"order.placed"}), None, bonuses, repeat_every)


def test_period_starts_are_utc_midnights_and_iso_mondays() -> None:
    late_sunday = datetime(2026, 1, 18, 23, 59, 59, tzinfo=UTC)
    assert Period.DAY.start(late_sunday) == datetime(2026, 1, 18, tzinfo=UTC)
    assert Period.WEEK.start(late_sunday) == MON
    assert Period.WEEK.start(late_sunday + timedelta(seconds=1)) == MON + WEEK
    tokyo_monday_morning = datetime(2026, 1, 19, 8, tzinfo=ZoneInfo("Asia/Tokyo"))  # Sun UTC
    assert Period.WEEK.start(tokyo_monday_morning) == MON


def test_advance_counts_the_next_period_ignores_same_and_earlier_and_restarts_after_a_gap() -> None:
    r = rule()
    one = advance(r, None, MON + timedelta(hours=9))
    assert one is not None
    assert (one.state.length, one.bonus) == (1, None)
    assert advance(r, one.state, MON + timedelta(hours=23)) is None  # same day
    assert advance(r, one.state, MON - timedelta(hours=1)) is None  # before it
    two = advance(r, one.state, MON + DAY)
    assert two is not None
    assert two.state.length == 2
    three = advance(r, two.state, MON + 2 * DAY)
    assert three is not None
    assert (three.state.length, three.bonus, three.state.best) == (3, 50, 3)
    broke = advance(r, three.state, MON + 4 * DAY)  # day 4 was missed
    assert broke is not None
    assert broke.broke
    assert (broke.state.length, broke.state.best, broke.bonus) == (1, 3, None)
    assert broke.state.started_at == MON + 4 * DAY
    assert two.state.started_at == one.state.started_at


def test_bonuses_at_listed_lengths_and_every_n_after_the_last() -> None:
    plain, repeating = rule(), rule(repeat_every=2)
    assert [plain.bonus_at(n) for n in range(1, 12)] == [
        None, None, 50, None, None, None, 100, None, None, None, None,
    ]  # fmt: skip
    assert [repeating.bonus_at(n) for n in (7, 8, 9, 10, 11)] == [100, None, 100, None, 100]
    assert plain.next_bonus(0) == Bonus(3, 50)
    assert plain.next_bonus(3) == Bonus(7, 100)
    assert plain.next_bonus(7) is None
    assert repeating.next_bonus(7) == Bonus(9, 100)
    assert repeating.next_bonus(8) == Bonus(9, 100)
    assert repeating.next_bonus(9) == Bonus(11, 100)


def test_view_at_period_edges() -> None:
    r = rule()
    state = State(length=2, best=4, last_period=MON, started_at=MON - DAY)

    during = view(r, state, MON + timedelta(hours=12))
    assert (during.length, during.counted, during.deadline) == (2, True, MON + 2 * DAY)
    assert (during.next_bonus, during.periods_to_go, during.best) == (Bonus(3, 50), 1, 4)
    next_day = view(r, state, MON + DAY)  # the first instant of the next day
    assert (next_day.length, next_day.counted, next_day.deadline) == (2, False, MON + 2 * DAY)
    last_instant = view(r, state, MON + 2 * DAY - timedelta(microseconds=1))
    assert (last_instant.length, last_instant.counted) == (2, False)
    broken = view(r, state, MON + 2 * DAY)
    assert (broken.length, broken.counted, broken.deadline, broken.started_at) == (
        0, False, None, None,
    )  # fmt: skip
    assert (broken.next_bonus, broken.periods_to_go, broken.best) == (Bonus(3, 50), 3, 4)
    never = view(r, None, MON)
    assert (never.length, never.best, never.last_period) == (0, 0, None)


def test_weeks_count_iso_weeks() -> None:
    r = rule(Period.WEEK)
    one = advance(r, None, MON + 6 * DAY)  # Sunday
    assert one is not None
    two = advance(r, one.state, MON + WEEK)  # the next day, a new week
    assert two is not None
    assert two.state.length == 2
    assert advance(r, two.state, MON + WEEK + 6 * DAY) is None
    alive = view(r, two.state, MON + 2 * WEEK + 3 * DAY)
    assert (alive.length, alive.counted, alive.deadline) == (2, False, MON + 3 * WEEK)
