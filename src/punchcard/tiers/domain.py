"""Tiers as pure rules: qualification windows, validity dates, the tier a metric qualifies for,
and what changes at an earning event, at the end of a validity period and on a grant.

No I/O: the qualifying metric is handed in (or asked of a callback), so the live events, the
careful fast path, the re-evaluation job and the tests all share one set of decisions.

Windows are half-open spans [lo, hi) of event time. At an event at t the metric counts what
happened in (t - 12 months, t] (rolling), [1 January of t's year, t] (calendar year) or up to t
(lifetime); at the end of a validity period b it counts (b - 12 months, b], the calendar year
ending at b, or everything up to b. Stored instants have microsecond resolution, so "up to and
including t" is "before t + 1 microsecond".
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

MICROSECOND = timedelta(microseconds=1)
CENT = Decimal("0.01")


class Metric(StrEnum):
    SPEND = "spend"
    POINTS = "points"


class Window(StrEnum):
    ROLLING_12_MONTHS = "rolling_12_months"
    CALENDAR_YEAR = "calendar_year"
    LIFETIME = "lifetime"


class Downgrade(StrEnum):
    ONE_DOWN = "one_down"
    RECALCULATE = "recalculate"


class ChangeKind(StrEnum):
    UPGRADED = "upgraded"
    DOWNGRADED = "downgraded"
    RENEWED = "renewed"
    GRANTED = "granted"


UPGRADED_EVENT = "tier.upgraded"
DOWNGRADED_EVENT = "tier.downgraded"


@dataclass(frozen=True)
class Tier:
    name: str
    threshold: Decimal
    multiplier: Decimal = Decimal(1)
    perks: tuple[str, ...] = ()
    invitation_only: bool = False


@dataclass(frozen=True)
class Policy:
    """A program's ladder, lowest tier first, and how members climb and leave it."""

    metric: Metric
    window: Window
    tiers: tuple[Tier, ...]
    downgrade: Downgrade = Downgrade.ONE_DOWN
    grace_days: int = 0
    version: int = 1

    def rank(self, name: str | None) -> int:
        """Position on the ladder; -1 for no tier (or a name the ladder no longer has)."""
        return next((i for i, t in enumerate(self.tiers) if t.name == name), -1)

    def get(self, name: str | None) -> Tier | None:
        return next((t for t in self.tiers if t.name == name), None)

    @property
    def floor(self) -> Tier | None:
        """The lowest tier a member can earn: it never expires once reached."""
        return next((t for t in self.tiers if not t.invitation_only), None)

    @property
    def base(self) -> str | None:
        """What a member without a stored tier holds: the floor, when it asks for nothing."""
        floor = self.floor
        return floor.name if floor is not None and floor.threshold == 0 else None

    def qualified(self, value: Decimal) -> str | None:
        earned = [t for t in self.tiers if not t.invitation_only and t.threshold <= value]
        return earned[-1].name if earned else None

    def one_below(self, name: str | None) -> str | None:
        below = [t for t in self.tiers[: max(self.rank(name), 0)] if not t.invitation_only]
        return below[-1].name if below else None

    def next_above(self, name: str | None) -> Tier | None:
        return next((t for t in self.tiers[self.rank(name) + 1 :] if not t.invitation_only), None)

    def show(self, value: Decimal) -> str:
        """A metric value as history and messages print it: money with cents, points whole."""
        if self.metric is Metric.SPEND:
            return str(value.quantize(CENT))
        return str(int(value))


@dataclass(frozen=True)
class Held:
    """The tier a member holds; `tier` None: none."""

    tier: str | None
    since: datetime | None = None
    valid_until: datetime | None = None
    granted: bool = False


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    from_tier: str | None
    to_tier: str | None
    valid_until: datetime | None
    occurred_at: datetime
    metric_value: str | None
    reason: str
    event: str | None  # tier.upgraded / tier.downgraded, or None (a renewal, a same-tier grant)


def held_or_base(policy: Policy, stored: Held | None) -> Held:
    """A member with no stored tier implicitly holds the base tier, if the ladder has one."""
    return stored if stored is not None else Held(policy.base)


def add_months(moment: datetime, months: int) -> datetime:
    """Same day and time `months` later (or earlier); the 29th-31st become the month's last."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _jan1(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=UTC)


def span_at(window: Window, moment: datetime) -> tuple[datetime | None, datetime]:
    """What an event at `moment` is measured over (lo None: from the beginning)."""
    hi = moment + MICROSECOND
    if window is Window.LIFETIME:
        return None, hi
    if window is Window.CALENDAR_YEAR:
        return _jan1(moment.year), hi
    if moment.year == 1:  # twelve months back would leave the calendar: from the beginning
        return None, hi
    return add_months(moment, -12) + MICROSECOND, hi


def span_closing(window: Window, boundary: datetime) -> tuple[datetime | None, datetime]:
    """What the period ending at `boundary` is judged on: for a calendar year, the year that
    ends there (a boundary of 1 January counts the whole year before, not the new one)."""
    if window is Window.CALENDAR_YEAR:
        return _jan1((boundary - MICROSECOND).year), boundary
    return span_at(window, boundary)


def validity(window: Window, moment: datetime) -> datetime | None:
    """Until when a qualification at `moment` holds: None is for ever."""
    if window is Window.LIFETIME:
        return None
    if window is Window.CALENDAR_YEAR:
        return _jan1(moment.year + 2)  # through the end of the next calendar year
    return add_months(moment, 12)


def renewal(window: Window, boundary: datetime) -> datetime | None:
    """The validity of the period that starts at `boundary`, for a member judged there."""
    if window is Window.CALENDAR_YEAR:
        return validity(window, boundary - MICROSECOND)
    return validity(window, boundary)


def _until(policy: Policy, tier: str | None, until: datetime | None) -> datetime | None:
    floor = policy.floor
    if tier is None or (floor is not None and tier == floor.name):
        return None  # the lowest tier never expires
    return until


def _later(fresh: datetime | None, current: datetime | None) -> bool:
    if current is None:
        return False
    return fresh is None or fresh > current


def describe(policy: Policy, value: Decimal) -> str:
    return f"{policy.metric.value} {policy.show(value)} ({policy.window.value})"


def at_event(
    policy: Policy, held: Held, value: Decimal, moment: datetime, cause: str = ""
) -> Change | None:
    """An upgrade (or a renewal of the same tier) when the metric at an earning event earns
    it; never a downgrade: those wait for the end of the period."""
    qualified = policy.qualified(value)
    because = describe(policy, value) + (f" at event {cause}" if cause else "")
    fresh = _until(policy, qualified, validity(policy.window, moment))
    if policy.rank(qualified) > policy.rank(held.tier):
        return Change(
            ChangeKind.UPGRADED,
            held.tier,
            qualified,
            fresh,
            moment,
            policy.show(value),
            f"qualified: {because}",
            UPGRADED_EVENT,
        )
    if qualified is not None and qualified == held.tier and _later(fresh, held.valid_until):
        return Change(
            ChangeKind.RENEWED,
            held.tier,
            qualified,
            fresh,
            moment,
            policy.show(value),
            f"requalified: {because}",
            None,
        )
    return None


def due(policy: Policy, held: Held, now: datetime) -> bool:
    """Whether the member's period, and its grace, are over."""
    return (
        held.tier is not None
        and held.valid_until is not None
        and held.valid_until + timedelta(days=policy.grace_days) <= now
    )


def _event_for(policy: Policy, before: str | None, after: str | None) -> str | None:
    if policy.rank(after) > policy.rank(before):
        return UPGRADED_EVENT
    if policy.rank(after) < policy.rank(before):
        return DOWNGRADED_EVENT
    return None


def at_boundary(policy: Policy, held: Held, value: Decimal) -> Change:
    """One step of re-evaluation at the end of the member's period (`held.valid_until`), on
    the metric of the window ending there: renewal, or a move to the tier the policy gives."""
    boundary = held.valid_until
    assert boundary is not None
    qualified = policy.qualified(value)
    target = qualified
    if policy.downgrade is Downgrade.ONE_DOWN:
        floor_of_fall = policy.one_below(held.tier)
        if policy.rank(floor_of_fall) > policy.rank(qualified):
            target = floor_of_fall
    until = _until(policy, target, renewal(policy.window, boundary))
    because = f"{describe(policy, value)} at the end of the period ({policy.downgrade.value})"
    if target == held.tier:
        kind = ChangeKind.RENEWED
    elif policy.rank(target) > policy.rank(held.tier):
        kind = ChangeKind.UPGRADED
    else:
        kind = ChangeKind.DOWNGRADED
    return Change(
        kind,
        held.tier,
        target,
        until,
        boundary,
        policy.show(value),
        because,
        _event_for(policy, held.tier, target),
    )


def apply(held: Held, change: Change) -> Held:
    if change.to_tier is None:
        return Held(None)
    since = held.since if change.kind is ChangeKind.RENEWED else change.occurred_at
    return Held(change.to_tier, since, change.valid_until, change.kind is ChangeKind.GRANTED)


def catch_up(
    policy: Policy, held: Held, now: datetime, metric_at: Callable[[datetime], Decimal]
) -> tuple[Held, list[Change]]:
    """Every period that ended (grace included) by `now`, judged one after the other at its
    own boundary: a job that did not run for two years ends where a daily one would have."""
    changes: list[Change] = []
    while due(policy, held, now):
        assert held.valid_until is not None
        change = at_boundary(policy, held, metric_at(held.valid_until))
        changes.append(change)
        held = apply(held, change)
    return held, changes


def grant(
    policy: Policy,
    held: Held,
    tier: str,
    *,
    reason: str,
    now: datetime,
    valid_until: datetime | None = None,
) -> Change:
    """A tier set by hand (the only way into an invitation-only tier), valid until the given
    date or for a period counted from now."""
    if valid_until is None:
        valid_until = _until(policy, tier, validity(policy.window, now))
    return Change(
        ChangeKind.GRANTED,
        held.tier,
        tier,
        valid_until,
        now,
        None,
        reason,
        _event_for(policy, held.tier, tier),
    )


@dataclass(frozen=True)
class Progress:
    next_tier: str
    needed: Decimal
    by: date | None
    message: str


def progress(policy: Policy, held: Held, value: Decimal, now: datetime) -> Progress | None:
    """What the member still needs for the next tier they can earn; None at the top."""
    target = policy.next_above(held.tier)
    if target is None:
        return None
    needed = max(target.threshold - value, Decimal(0))
    by = date(now.year, 12, 31) if policy.window is Window.CALENDAR_YEAR else None
    if needed == 0:
        message = f"reaches {target.name} with the next earning event"
        return Progress(target.name, needed, by, message)
    if policy.metric is Metric.SPEND:
        verb = f"spend {policy.show(needed)} more"
    else:
        verb = f"earn {policy.show(needed)} more points"
    if policy.window is Window.CALENDAR_YEAR:
        message = f"{verb} by {by} to reach {target.name}"
    elif policy.window is Window.ROLLING_12_MONTHS:
        message = f"{verb} to reach {target.name} (what you did in the last 12 months counts)"
    else:
        message = f"{verb} to reach {target.name}"
    return Progress(target.name, needed, by, message)


def problems(policy: Policy) -> list[dict[str, str]]:
    """What is wrong with a ladder, each with the JSON path it is at; empty when it is sound."""
    found: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, tier in enumerate(policy.tiers):
        if tier.name.casefold() in seen:
            found.append({"path": f"tiers[{i}].name", "message": f"{tier.name!r} is repeated"})
        seen.add(tier.name.casefold())
        exact = tier.threshold == tier.threshold.to_integral_value()
        if policy.metric is Metric.POINTS and not exact:
            found.append({"path": f"tiers[{i}].threshold", "message": "points are whole"})
        if policy.metric is Metric.SPEND and tier.threshold != tier.threshold.quantize(CENT):
            found.append({"path": f"tiers[{i}].threshold", "message": "at most 2 decimals"})
        if i and tier.threshold <= policy.tiers[i - 1].threshold:
            found.append(
                {
                    "path": f"tiers[{i}].threshold",
                    "message": "thresholds must increase strictly, lowest tier first",
                }
            )
    return found
