"""What a badge asks of a member and how far the member is: pure functions over plain values.

A badge has one criterion. Counting criteria (orders, events of a type, items recycled,
donations) are met once the member's count reaches the target; `member_years` once the
member's enrolment anniversary has passed; `tier_reached` once the member holds that tier or
one above it on the ladder; `manual` badges are only ever given by a challenge or an admin.
Nothing here takes a badge back: a refund lowers a count, never an award."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    ORDER_COUNT = "order_count"
    EVENT_COUNT = "event_count"
    MEMBER_YEARS = "member_years"
    TIER_REACHED = "tier_reached"
    DONATIONS = "donations"
    MANUAL = "manual"


# Kinds an event can meet (every kind but manual); the job also looks at these two.
EVENT_KINDS = tuple(k for k in Kind if k is not Kind.MANUAL)
JOB_KINDS = (Kind.MEMBER_YEARS, Kind.TIER_REACHED)
ITEMS_EVENT = "recycling.dropped_off"  # the one event type whose `items` can be summed

_PLURALS = {
    "order.placed": "orders",
    "order.refunded": "refunds",
    "order.cancelled": "cancellations",
    "review.submitted": "reviews",
    "social.shared": "shares",
    "recycling.dropped_off": "recycling drop-offs",
    "member.signed_up": "sign-ups",
    "member.birthday": "birthdays",
    "survey.completed": "surveys",
    "product.viewed": "product views",
    "app.installed": "app installs",
}


@dataclass(frozen=True)
class Criteria:
    kind: Kind
    count: int | None = None  # order_count, event_count, donations
    event_type: str | None = None  # event_count
    sum: str | None = None  # event_count: "items" sums recycling.dropped_off's items
    years: int | None = None  # member_years
    tier: str | None = None  # tier_reached

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Criteria:
        return cls(
            kind=Kind(data["kind"]),
            count=data.get("count"),
            event_type=data.get("event_type"),
            sum=data.get("sum"),
            years=data.get("years"),
            tier=data.get("tier"),
        )

    def as_json(self) -> dict[str, Any]:
        found = {
            "kind": self.kind.value,
            "count": self.count,
            "event_type": self.event_type,
            "sum": self.sum,
            "years": self.years,
            "tier": self.tier,
        }
        return {k: v for k, v in found.items() if v is not None}


@dataclass(frozen=True)
class Definition:
    id: int
    name: str
    criteria: Criteria
    points: int | None


@dataclass(frozen=True)
class Needs:
    """The member facts a set of badges looks at, so one statement reads only those."""

    orders: bool = False
    events: frozenset[str] = frozenset()
    items: bool = False
    donations: bool = False
    tier: bool = False

    @classmethod
    def of(cls, criteria: list[Criteria]) -> Needs:
        counted = [c for c in criteria if c.kind is Kind.EVENT_COUNT and c.event_type]
        return cls(
            orders=any(c.kind is Kind.ORDER_COUNT for c in criteria),
            events=frozenset(str(c.event_type) for c in counted if c.sum is None),
            items=any(c.sum == "items" for c in counted),
            donations=any(c.kind is Kind.DONATIONS for c in criteria),
            tier=any(c.kind is Kind.TIER_REACHED for c in criteria),
        )


@dataclass(frozen=True)
class MemberFacts:
    member_since: datetime
    orders: int = 0
    events: Mapping[str, int] = field(default_factory=dict)
    items: int = 0  # items recycled
    donations: int = 0
    tier: str | None = None  # held now (the base tier for a member with no stored tier)
    ladder: tuple[str, ...] = ()  # the program's tier names, lowest first

    def with_event(self, event_type: str, data: Mapping[str, Any]) -> MemberFacts:
        """These facts plus one event not yet counted (the one being handled)."""
        events = dict(self.events)
        if event_type in events:
            events[event_type] += 1
        items = self.items
        if event_type == ITEMS_EVENT and isinstance(data.get("items"), int):
            items += int(data["items"])
        return MemberFacts(
            self.member_since, self.orders, events, items, self.donations, self.tier, self.ladder
        )


def add_years(moment: datetime, years: int) -> datetime:
    """Same day and time `years` later (or earlier); 29 February becomes the 28th."""
    year = moment.year + years
    day = min(moment.day, calendar.monthrange(year, moment.month)[1])
    return moment.replace(year=year, day=day)


def full_years(since: datetime, at: datetime) -> int:
    years = at.year - since.year
    if years > 0 and add_years(since, years) > at:
        years -= 1
    return max(years, 0)


def _counted(criteria: Criteria, facts: MemberFacts) -> int:
    if criteria.kind is Kind.ORDER_COUNT:
        return facts.orders
    if criteria.kind is Kind.DONATIONS:
        return facts.donations
    if criteria.sum == "items":
        return facts.items
    return facts.events.get(str(criteria.event_type), 0)


def _rank(ladder: tuple[str, ...], name: str | None) -> int:
    return ladder.index(name) if name in ladder else -1


def earned(criteria: Criteria, facts: MemberFacts, at: datetime) -> bool:
    """Whether the member meets the badge's criterion at `at` (never, for a manual badge)."""
    if criteria.kind is Kind.MANUAL:
        return False
    if criteria.kind is Kind.MEMBER_YEARS:
        return add_years(facts.member_since, int(criteria.years or 0)) <= at
    if criteria.kind is Kind.TIER_REACHED:
        target = _rank(facts.ladder, criteria.tier)
        return target >= 0 and _rank(facts.ladder, facts.tier) >= target
    return _counted(criteria, facts) >= int(criteria.count or 0)


@dataclass(frozen=True)
class Progress:
    text: str
    current: int | None
    target: int | None


def _noun(criteria: Criteria, target: int) -> str:
    if criteria.kind is Kind.ORDER_COUNT:
        return "order" if target == 1 else "orders"
    if criteria.kind is Kind.DONATIONS:
        return "donation" if target == 1 else "donations"
    if criteria.sum == "items":
        return "item recycled" if target == 1 else "items recycled"
    event_type = str(criteria.event_type)
    plural = _PLURALS.get(event_type, f"{event_type} events")
    return plural.removesuffix("s") if target == 1 and plural.endswith("s") else plural


def progress(criteria: Criteria, facts: MemberFacts, at: datetime) -> Progress:
    """How far the member is, as a member reads it: "3 of 5 orders"."""
    if criteria.kind is Kind.MANUAL:
        return Progress("given by a challenge or by the program", None, None)
    if criteria.kind is Kind.MEMBER_YEARS:
        target = int(criteria.years or 0)
        done = min(full_years(facts.member_since, at), target)
        return Progress(f"{done} of {target} {'year' if target == 1 else 'years'} a member",
                        done, target)  # fmt: skip
    if criteria.kind is Kind.TIER_REACHED:
        held = facts.tier or "no tier"
        return Progress(f"holds {held}; {criteria.tier} needed", None, None)
    target = int(criteria.count or 0)
    done = min(_counted(criteria, facts), target)
    return Progress(f"{done} of {target} {_noun(criteria, target)}", done, target)
