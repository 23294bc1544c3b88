"""Streaks: consecutive periods (UTC days, or ISO weeks starting Monday 00:00 UTC) with a
qualifying event. Pure functions over plain values.

A qualifying event in the period after the last one counted makes the streak one longer
(and pays the bonus of that length, if any); in the same period it changes nothing; after
a gap the streak broke and starts again at 1 (the best length is kept). An event dated
before the last counted period is ignored: the streak only ever moves forward, so a late
event cannot rewrite a run (or a bonus) already decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from punchcard.rules.domain import Conditions, Facts, failed_condition


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"

    @property
    def step(self) -> timedelta:
        return timedelta(days=1 if self is Period.DAY else 7)

    def start(self, moment: datetime) -> datetime:
        """The start of the period holding `moment`: midnight UTC, Monday for weeks."""
        day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return day if self is Period.DAY else day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Bonus:
    length: int
    points: int


@dataclass(frozen=True)
class StreakRule:
    id: int
    name: str
    period: Period
    events: frozenset[str]
    conditions: Conditions | None
    bonuses: tuple[Bonus, ...]  # by length, ascending
    repeat_every: int | None = None

    def qualifies(self, event_type: str, facts: Facts) -> bool:
        if event_type not in self.events:
            return False
        return self.conditions is None or failed_condition(self.conditions, facts) is None

    def bonus_at(self, length: int) -> int | None:
        """Points for reaching `length`: a listed length, or with `repeat_every` N each N
        periods after the last listed length (with that length's points)."""
        listed = next((b.points for b in self.bonuses if b.length == length), None)
        if listed is not None or not self.bonuses or self.repeat_every is None:
            return listed
        last = self.bonuses[-1]
        beyond = length - last.length
        return last.points if beyond > 0 and beyond % self.repeat_every == 0 else None

    def next_bonus(self, length: int) -> Bonus | None:
        """The first bonus at a length above `length`."""
        listed = next((b for b in self.bonuses if b.length > length), None)
        if listed is not None or not self.bonuses or self.repeat_every is None:
            return listed
        last = self.bonuses[-1]
        steps = (length - last.length) // self.repeat_every + 1
        return Bonus(last.length + steps * self.repeat_every, last.points)


@dataclass(frozen=True)
class State:
    length: int
    best: int
    last_period: datetime  # start of the last period counted
    started_at: datetime  # when the current run began (its first event)


@dataclass(frozen=True)
class Advance:
    state: State
    period: datetime  # the period just counted
    bonus: int | None  # points for the length reached, if any
    broke: bool  # a gap ended the previous run


def advance(rule: StreakRule, state: State | None, occurred_at: datetime) -> Advance | None:
    """What a qualifying event does; None when it changes nothing (same period as the last
    counted, or an earlier one)."""
    period = rule.period.start(occurred_at)
    if state is None:
        fresh = State(1, 1, period, occurred_at)
        return Advance(fresh, period, rule.bonus_at(1), broke=False)
    if period <= state.last_period:
        return None
    if period == state.last_period + rule.period.step:
        length = state.length + 1
        longer = State(length, max(state.best, length), period, state.started_at)
        return Advance(longer, period, rule.bonus_at(length), broke=False)
    restarted = State(1, state.best, period, occurred_at)
    return Advance(restarted, period, rule.bonus_at(1), broke=True)


@dataclass(frozen=True)
class View:
    """A member's streak as of `now`."""

    length: int  # 0: broken (nothing in the previous or current period) or never started
    counted: bool  # this period already has its qualifying event
    deadline: datetime | None  # the next qualifying event must come before this
    next_bonus: Bonus | None
    periods_to_go: int | None
    best: int
    started_at: datetime | None
    last_period: datetime | None


def view(rule: StreakRule, state: State | None, now: datetime) -> View:
    current = rule.period.start(now)
    step = rule.period.step
    alive = state is not None and state.last_period >= current - step
    length = state.length if state is not None and alive else 0
    counted = state is not None and state.last_period >= current
    deadline = None
    if state is not None and alive:
        deadline = state.last_period + 2 * step  # the end of the period after the last
    upcoming = rule.next_bonus(length)
    return View(
        length=length,
        counted=counted,
        deadline=deadline,
        next_bonus=upcoming,
        periods_to_go=None if upcoming is None else upcoming.length - length,
        best=0 if state is None else state.best,
        started_at=state.started_at if state is not None and alive else None,
        last_period=None if state is None else state.last_period,
    )
