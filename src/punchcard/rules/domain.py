"""Rule evaluation: pure functions over plain values. No I/O, so every case is unit-tested and
the same code serves live events, dry runs, bulk imports and explanations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIODS = ("day", "week", "month", "lifetime")
ROUNDING = {"down": ROUND_FLOOR, "nearest": ROUND_HALF_UP, "up": ROUND_CEILING}


class Stacking(StrEnum):
    STACK = "stack"
    BEST_OF = "best_of"
    EXCLUSIVE = "exclusive"


@dataclass(frozen=True)
class Line:
    sku: str
    category: str | None
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Facts:
    """What a rule may look at: the event and, where known, the member."""

    type: str
    occurred_at: datetime
    channel: str
    store_id: str | None
    amount: Decimal | None
    lines: tuple[Line, ...] = ()
    tier: str | None = None
    first_order: bool | None = None


@dataclass(frozen=True)
class Conditions:
    channels: frozenset[str] | None = None
    stores: frozenset[str] | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    skus: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    tiers: frozenset[str] | None = None
    first_order: bool | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    days_of_week: frozenset[str] | None = None
    time_from: time | None = None
    time_until: time | None = None


@dataclass(frozen=True)
class Effect:
    type: str  # per_currency_unit | per_line | fixed | multiplier
    points: int = 0
    unit: Decimal = Decimal(1)
    rounding: str = "down"
    factor: Decimal = Decimal(1)
    skus: frozenset[str] | None = None
    categories: frozenset[str] | None = None

    @property
    def is_multiplier(self) -> bool:
        return self.type == "multiplier"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    events: frozenset[str]
    effect: Effect
    conditions: Conditions = field(default_factory=Conditions)
    active: bool = True
    priority: int = 0
    stacking: Stacking = Stacking.STACK
    caps: Mapping[str, int] = field(default_factory=dict)
    budget: int | None = None


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    # `applicable`'s answers (a plain attribute: functools.cached_property takes a lock).
    _by_type: dict[str, tuple[tuple[Rule, ...], bool]] = field(
        init=False, default_factory=dict, compare=False, repr=False
    )

    def applicable(self, event_type: str) -> tuple[tuple[Rule, ...], bool]:
        """The active rules for an event type, highest priority first (ties in the order
        given), and whether they are all plain (`_plain`): worked out once per rule set,
        which is immutable, not once per event."""
        found = self._by_type.get(event_type)
        if found is None:
            ordered = tuple(
                sorted(
                    (r for r in self.rules if r.active and event_type in r.events),
                    key=lambda r: -r.priority,
                )
            )
            found = self._by_type[event_type] = (ordered, all(_plain(r) for r in ordered))
        return found


def _plain(rule: Rule) -> bool:
    """A rule that only adds its points: no caps, budget, multiplier or stacking choice."""
    return (
        rule.stacking is Stacking.STACK
        and not rule.effect.is_multiplier
        and not rule.caps
        and rule.budget is None
    )


@dataclass(frozen=True)
class Award:
    rule_id: str
    rule_name: str
    points: int
    raw_points: int
    lines: tuple[int, ...]
    cut_by: str | None = None
    effect: str = "fixed"


@dataclass(frozen=True)
class Evaluation:
    awards: tuple[Award, ...]
    skipped: tuple[tuple[str, str], ...]

    @property
    def total(self) -> int:
        return sum(a.points for a in self.awards)


def _line_matches(
    line: Line, skus: frozenset[str] | None, categories: frozenset[str] | None
) -> bool:
    if skus is None and categories is None:
        return True
    return (skus is not None and line.sku in skus) or (
        categories is not None and line.category in categories
    )


def _in_window(moment: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # wraps midnight


def failed_condition(c: Conditions, f: Facts) -> str | None:
    """The name of the first condition that does not hold, or None when all hold. One test
    after the other: it runs for every rule and every event, most conditions unset."""
    if c.channels is not None and f.channel not in c.channels:
        return "channels"
    if c.stores is not None and f.store_id not in c.stores:
        return "stores"
    if c.min_amount is not None and (f.amount is None or f.amount < c.min_amount):
        return "min_amount"
    if c.max_amount is not None and (f.amount is None or f.amount > c.max_amount):
        return "max_amount"
    if c.skus is not None and not any(line.sku in c.skus for line in f.lines):
        return "skus"
    if c.categories is not None and not any(line.category in c.categories for line in f.lines):
        return "categories"
    if c.tiers is not None and (f.tier is None or f.tier not in c.tiers):
        return "tiers"
    if c.first_order is not None and f.first_order is not c.first_order:
        return "first_order"
    if c.starts_at is not None and f.occurred_at < c.starts_at:
        return "starts_at"
    if c.ends_at is not None and f.occurred_at >= c.ends_at:
        return "ends_at"
    if c.days_of_week is not None and DAYS[f.occurred_at.weekday()] not in c.days_of_week:
        return "days_of_week"
    if c.time_from is not None and c.time_until is not None:
        moment = f.occurred_at.time().replace(tzinfo=None)
        if not _in_window(moment, c.time_from, c.time_until):
            return "time_from"
    return None


def split(total: int, weights: Sequence[Decimal]) -> tuple[int, ...]:
    """Split `total` in proportion to `weights` with the largest-remainder method, so the parts
    always add up to the total exactly."""
    weight_sum = sum(weights, Decimal(0))
    if not weights or weight_sum <= 0:
        return tuple(0 for _ in weights)
    exact = [Decimal(total) * w / weight_sum for w in weights]
    parts = [int(x.to_integral_value(rounding=ROUND_FLOOR)) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return tuple(parts)


def raw_award(rule: Rule, facts: Facts) -> tuple[int, tuple[int, ...]]:
    """Points before caps, and their attribution to the event's lines."""
    effect = rule.effect
    lines = facts.lines
    if effect.type == "fixed":
        return effect.points, ()
    if effect.type == "per_line":
        weights = [
            Decimal(ln.quantity)
            if _line_matches(ln, effect.skus, effect.categories)
            else Decimal(0)
            for ln in lines
        ]
        parts = tuple(int(w) * effect.points for w in weights)
        return sum(parts), parts
    # per_currency_unit
    filtered = effect.skus is not None or effect.categories is not None
    if filtered:
        weights = [
            ln.amount if _line_matches(ln, effect.skus, effect.categories) else Decimal(0)
            for ln in lines
        ]
        amount = sum(weights, Decimal(0))
    else:
        weights = [ln.amount for ln in lines]
        amount = facts.amount if facts.amount is not None else Decimal(0)
    # Multiply before dividing, and round once: 3 points per 3.00 on 10.00 is exactly 10.
    exact = amount * effect.points / effect.unit
    points = int(exact.to_integral_value(rounding=ROUNDING[effect.rounding]))
    points = max(points, 0)
    return points, split(points, weights) if lines else ()


def _cut(
    rule: Rule,
    points: int,
    cap_used: Mapping[str, Mapping[str, int]],
    budget_used: Mapping[str, int],
) -> tuple[int, str | None]:
    cut_by = None
    used = cap_used.get(rule.id, {})
    for period in PERIODS:
        limit = rule.caps.get(period)
        if limit is not None:
            room = max(limit - used.get(period, 0), 0)
            if points > room:
                points, cut_by = room, f"cap:{period}"
    if rule.budget is not None:
        room = max(rule.budget - budget_used.get(rule.id, 0), 0)
        if points > room:
            points, cut_by = room, "budget"
    return points, cut_by


def _scale(parts: tuple[int, ...], points: int) -> tuple[int, ...]:
    if not parts:
        return ()
    return split(points, [Decimal(p) for p in parts])


def _best(candidates: list[tuple[Rule, Decimal]]) -> dict[str, str]:
    """best_of rules that lose to a better best_of rule, each with the winner's id."""
    best = [(r, v) for r, v in candidates if r.stacking is Stacking.BEST_OF]
    if len(best) < 2:
        return {}
    winner = max(best, key=lambda rv: rv[1])[0]  # max keeps the first of equals: priority order
    return {r.id: winner.id for r, _ in best if r.id != winner.id}


def evaluate(
    rules: RuleSet,
    facts: Facts,
    *,
    cap_used: Mapping[str, Mapping[str, int]] | None = None,
    budget_used: Mapping[str, int] | None = None,
    tier_multiplier: Decimal | None = None,
) -> Evaluation:
    """`tier_multiplier`: the earn multiplier of the member's tier (`facts.tier`), applied after
    every rule to the base (non-multiplier) points, as an award of its own (`tier:<name>`)."""
    cap_used = cap_used or {}
    budget_used = budget_used or {}
    skipped: list[tuple[str, str]] = []
    candidates = []
    applicable, plain = rules.applicable(facts.type)
    for rule in applicable:
        failed = failed_condition(rule.conditions, facts)
        if failed:
            skipped.append((rule.id, f"condition {failed}"))
        else:
            candidates.append(rule)
    if plain and tier_multiplier is None:  # what follows, less the steps that change nothing
        added = []
        for rule in candidates:
            raw, parts = raw_award(rule, facts)
            added.append(Award(rule.id, rule.name, raw, raw, parts, None, rule.effect.type))
        return Evaluation(tuple(added), tuple(skipped))
    exclusive = next((r for r in candidates if r.stacking is Stacking.EXCLUSIVE), None)
    if exclusive is not None:
        skipped += [
            (r.id, f"exclusive rule {exclusive.id} applied")
            for r in candidates
            if r is not exclusive
        ]
        candidates = [exclusive]
    base_rules = [r for r in candidates if not r.effect.is_multiplier]
    multipliers = [r for r in candidates if r.effect.is_multiplier]
    raws = {r.id: raw_award(r, facts) for r in base_rules}
    losers = _best([(r, Decimal(raws[r.id][0])) for r in base_rules])
    losers |= _best([(r, r.effect.factor) for r in multipliers])
    for rule in candidates:
        if rule.id in losers:
            skipped.append((rule.id, f"best_of: rule {losers[rule.id]} awarded more"))
    awards: list[Award] = []
    for rule in (r for r in base_rules if r.id not in losers):
        raw, parts = raws[rule.id]
        points, cut_by = _cut(rule, raw, cap_used, budget_used)
        lines = parts if points == raw else _scale(parts, points)
        awards.append(Award(rule.id, rule.name, points, raw, lines, cut_by, rule.effect.type))
    base = sum(a.points for a in awards)
    base_lines = _sum_lines([a.lines for a in awards], len(facts.lines))
    for rule in (r for r in multipliers if r.id not in losers):
        raw = int(
            (Decimal(base) * (rule.effect.factor - 1)).to_integral_value(rounding=ROUND_FLOOR)
        )
        points, cut_by = _cut(rule, raw, cap_used, budget_used)
        lines = _scale(base_lines, points) if base_lines else ()
        awards.append(Award(rule.id, rule.name, points, raw, lines, cut_by, "multiplier"))
    if tier_multiplier is not None and tier_multiplier > 1 and facts.tier is not None:
        awards += _tier_award(facts.tier, tier_multiplier, base, base_lines)
    return Evaluation(tuple(awards), tuple(skipped))


def _tier_award(tier: str, factor: Decimal, base: int, base_lines: tuple[int, ...]) -> list[Award]:
    """(factor - 1) x the base points, rounded down, attributed to lines like a multiplier
    rule, so a refund of some lines takes back their share of it."""
    points = int((Decimal(base) * (factor - 1)).to_integral_value(rounding=ROUND_FLOOR))
    if points <= 0:
        return []
    lines = _scale(base_lines, points) if base_lines else ()
    return [
        Award(f"tier:{tier}", f"{tier} tier x{factor}", points, points, lines, None, "multiplier")
    ]


def _sum_lines(parts: Sequence[tuple[int, ...]], count: int) -> tuple[int, ...]:
    attributed = [p for p in parts if p]
    if not attributed or count == 0:
        return ()
    return tuple(sum(p[i] for p in attributed) for i in range(count))
