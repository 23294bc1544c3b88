"""The tier multiplier in the rules engine, with plain values."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from punchcard.rules.domain import Facts, Line, evaluate
from punchcard.rules.schemas import parse_rule_set

AT = datetime(2027, 1, 5, 12, tzinfo=UTC)
RULES = parse_rule_set(
    {
        "rules": [
            {
                "id": "base",
                "events": ["order.placed"],
                "effect": {"type": "per_currency_unit", "points": 1},
            },
            {"id": "bonus", "events": ["order.placed"], "effect": {"type": "fixed", "points": 10}},
            {
                "id": "double",
                "events": ["order.placed"],
                "effect": {"type": "multiplier", "factor": 2},
            },
        ]
    }
)


def _order(tier: str | None) -> Facts:
    lines = (Line("a", None, 1, Decimal("30.00")), Line("b", None, 1, Decimal("10.00")))
    return Facts("order.placed", AT, "web", None, Decimal("40.00"), lines, tier=tier)


def test_the_tier_multiplier_applies_to_the_base_points_after_the_rules() -> None:
    found = evaluate(RULES, _order("Gold"), tier_multiplier=Decimal("1.5"))
    assert [(a.rule_id, a.points, a.effect) for a in found.awards] == [
        ("base", 40, "per_currency_unit"),
        ("bonus", 10, "fixed"),
        ("double", 50, "multiplier"),
        ("tier:Gold", 25, "multiplier"),  # half of the 50 base points, not of the doubling
    ]
    tier_award = found.awards[-1]
    assert tier_award.rule_name == "Gold tier x1.5"
    assert tier_award.lines == (19, 6)  # split like the base awards attributed to lines


def test_no_tier_or_no_multiplier_adds_nothing() -> None:
    plain = evaluate(RULES, _order(None))
    assert evaluate(RULES, _order(None), tier_multiplier=Decimal(2)).awards == plain.awards
    assert evaluate(RULES, _order("Member"), tier_multiplier=Decimal(1)).total == plain.total
    assert evaluate(RULES, _order("Member"), tier_multiplier=None).total == plain.total


def test_rounding_down_and_nothing_for_nothing() -> None:
    review = Facts("review.submitted", AT, "web", None, None, tier="Silver")
    assert evaluate(RULES, review, tier_multiplier=Decimal(3)).awards == ()
    small = parse_rule_set(
        {
            "rules": [
                {
                    "id": "r",
                    "events": ["review.submitted"],
                    "effect": {"type": "fixed", "points": 3},
                }
            ]
        }
    )
    found = evaluate(small, review, tier_multiplier=Decimal("1.25"))
    assert [(a.rule_id, a.points) for a in found.awards] == [("r", 3)]  # 0.75 rounds to 0
