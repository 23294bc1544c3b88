"""The evaluation's shortcuts give what the whole procedure gives, for any rules and event.

`evaluate` skips the stacking, caps and multiplier steps when every rule for the event type is
plain (they would change nothing), and `failed_condition` stops at the first condition that
fails. Both run for every event earned, so they are fast; these properties keep them exact:
the whole procedure is what `evaluate` runs when given a tier multiplier of 1 (which awards
nothing more), and the condition checks are compared with their first, list-based form.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from punchcard.rules.domain import (
    DAYS,
    Conditions,
    Facts,
    Line,
    _in_window,
    evaluate,
    failed_condition,
)
from punchcard.rules.schemas import parse_rule_set

T0 = datetime(2026, 1, 5, tzinfo=UTC)
SKUS = ["A", "B", "C"]
CATEGORIES = ["shoes", "hats"]
CHANNELS = ["web", "app", "pos"]

conditions = st.fixed_dictionaries(
    {},
    optional={
        "channels": st.lists(st.sampled_from(CHANNELS), min_size=1, unique=True),
        "stores": st.lists(st.sampled_from(["s1", "s2"]), min_size=1, unique=True),
        "min_amount": st.integers(0, 30).map(str),
        "max_amount": st.integers(30, 60).map(str),
        "skus": st.lists(st.sampled_from(SKUS), min_size=1, unique=True),
        "categories": st.lists(st.sampled_from(CATEGORIES), min_size=1, unique=True),
        "tiers": st.lists(st.sampled_from(["gold", "silver"]), min_size=1, unique=True),
        "first_order": st.booleans(),
        "days_of_week": st.lists(st.sampled_from(DAYS), min_size=1, unique=True),
    },
)
effects = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("per_currency_unit"), "points": st.integers(1, 5)},
        optional={
            "unit": st.sampled_from([1, 3, 5]),
            "rounding": st.sampled_from(["down", "nearest", "up"]),
            "skus": st.lists(st.sampled_from(SKUS), min_size=1, unique=True),
        },
    ),
    st.fixed_dictionaries({"type": st.just("fixed"), "points": st.integers(1, 50)}),
    st.fixed_dictionaries(
        {"type": st.just("multiplier"), "factor": st.sampled_from(["1.5", "2", "3"])}
    ),
    st.fixed_dictionaries(
        {"type": st.just("per_line"), "points": st.integers(1, 5)},
        optional={"categories": st.lists(st.sampled_from(CATEGORIES), min_size=1, unique=True)},
    ),
)


MULTIPLIER = {"type": "multiplier", "factor": "2"}
# What makes a rule set not plain, one at a time, so that each is tried on its own.
NOT_PLAIN: dict[str, dict[str, Any]] = {
    "caps": {"caps": {"day": 7}},
    "budget": {"budget": 5},
    "best_of": {"stacking": "best_of"},
    "exclusive": {"stacking": "exclusive"},
    "multiplier": {"effect": MULTIPLIER},
}


@st.composite
def rule_sets(draw: st.DrawFn) -> dict[str, Any]:
    """Plain rule sets half the time; else one that has one rule (or two, for best_of and
    exclusive to have something to choose between) with one thing that is not plain."""
    rules = [
        {
            "id": f"r{n}",
            "events": draw(
                st.sampled_from([["order.placed"], ["order.placed", "review.submitted"]])
            ),
            "effect": draw(effects),
            "conditions": draw(st.just({}) | conditions),
            "priority": draw(st.integers(-2, 2)),
            "active": draw(st.sampled_from([True, True, True, False])),
        }
        for n in range(draw(st.integers(1, 4)))
    ]
    twist = draw(st.sampled_from(["plain", "plain", "plain", "plain", *NOT_PLAIN]))
    if twist != "plain":
        for rule in draw(st.lists(st.sampled_from(rules), min_size=1, max_size=2)):
            rule |= NOT_PLAIN[twist]
    return {"rules": rules}


lines = st.lists(
    st.builds(
        Line,
        sku=st.sampled_from(SKUS),
        category=st.none() | st.sampled_from(CATEGORIES),
        quantity=st.integers(1, 3),
        unit_price=st.integers(0, 2000).map(lambda cents: Decimal(cents) / 100),
    ),
    max_size=3,
)


@st.composite
def facts(draw: st.DrawFn) -> Facts:
    event_type = draw(st.sampled_from(["order.placed", "review.submitted"]))
    at = T0 + timedelta(minutes=draw(st.integers(0, 7 * 24 * 60)))
    if event_type != "order.placed":
        return Facts(event_type, at, draw(st.sampled_from(CHANNELS)), None, None)
    order_lines = tuple(draw(lines))
    amount = sum((ln.amount for ln in order_lines), Decimal(0)) if order_lines else None
    return Facts(
        event_type,
        at,
        draw(st.sampled_from(CHANNELS)),
        draw(st.none() | st.sampled_from(["s1", "s2"])),
        draw(st.just(amount) | st.integers(0, 80).map(Decimal)),
        order_lines,
        tier=draw(st.none() | st.sampled_from(["gold", "silver"])),
        first_order=draw(st.none() | st.booleans()),
    )


@settings(max_examples=1500)
@given(body=rule_sets(), seen=facts())
def test_plain_rules_are_evaluated_as_the_whole_procedure_would(
    body: dict[str, Any], seen: Facts
) -> None:
    rules = parse_rule_set(body)
    assert evaluate(rules, seen) == evaluate(rules, seen, tier_multiplier=Decimal(1))


def _first_failed_as_listed(c: Conditions, f: Facts) -> str | None:
    """`failed_condition` as first written: every check worked out, then the first False."""
    checks: list[tuple[str, bool]] = [
        ("channels", c.channels is None or f.channel in c.channels),
        ("stores", c.stores is None or f.store_id in c.stores),
        ("min_amount", c.min_amount is None or (f.amount is not None and f.amount >= c.min_amount)),
        ("max_amount", c.max_amount is None or (f.amount is not None and f.amount <= c.max_amount)),
        ("skus", c.skus is None or any(line.sku in c.skus for line in f.lines)),
        (
            "categories",
            c.categories is None or any(line.category in c.categories for line in f.lines),
        ),
        ("tiers", c.tiers is None or (f.tier is not None and f.tier in c.tiers)),
        ("first_order", c.first_order is None or f.first_order is c.first_order),
        ("starts_at", c.starts_at is None or f.occurred_at >= c.starts_at),
        ("ends_at", c.ends_at is None or f.occurred_at < c.ends_at),
        ("days_of_week", c.days_of_week is None or DAYS[f.occurred_at.weekday()] in c.days_of_week),
    ]
    if c.time_from is not None and c.time_until is not None:
        moment = f.occurred_at.time().replace(tzinfo=None)
        checks.append(("time_from", _in_window(moment, c.time_from, c.time_until)))
    return next((name for name, ok in checks if not ok), None)


moments = st.none() | st.integers(0, 7 * 24).map(lambda h: T0 + timedelta(hours=h))
clock = st.none() | st.integers(0, 23).map(lambda h: time(h))


@settings(max_examples=600)
@given(
    body=conditions,
    starts_at=moments,
    ends_at=moments,
    time_from=clock,
    time_until=clock,
    seen=facts(),
)
def test_conditions_fail_on_the_first_that_does_not_hold(
    body: dict[str, Any],
    starts_at: datetime | None,
    ends_at: datetime | None,
    time_from: time | None,
    time_until: time | None,
    seen: Facts,
) -> None:
    parsed = parse_rule_set(
        {"rules": [{"id": "r", "events": ["order.placed"], "effect": {"type": "fixed", "points": 1},
                    "conditions": body}]}
    ).rules[0].conditions  # fmt: skip
    c = replace(
        parsed, starts_at=starts_at, ends_at=ends_at, time_from=time_from, time_until=time_until
    )
    assert failed_condition(c, seen) == _first_failed_as_listed(c, seen)
