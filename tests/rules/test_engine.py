"""The rules engine with plain values: parsing rule sets and evaluating them (docs/rules.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from punchcard.rules.domain import Award, Evaluation, Facts, Line, evaluate
from punchcard.rules.schemas import DEFAULT_RULE_SET, RuleSetError, parse_rule_set

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"

# 2026-01-05 is a Monday, 2026-01-03 a Saturday, 2026-01-04 a Sunday.
MON_NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SAT_NOON = datetime(2026, 1, 3, 12, 0, tzinfo=UTC)

Rule = dict[str, Any]


# --- helpers ------------------------------------------------------------------------------


def line(sku: str, price: str, quantity: int = 1, category: str | None = None) -> Line:
    return Line(sku=sku, category=category, quantity=quantity, unit_price=Decimal(price))


def order(
    amount: str | None = "12.99",
    *lines: Line,
    at: datetime = MON_NOON,
    event: str = "order.placed",
    channel: str = "web",
    store_id: str | None = "s1",
    tier: str | None = None,
    first_order: bool | None = None,
) -> Facts:
    return Facts(
        type=event,
        occurred_at=at,
        channel=channel,
        store_id=store_id,
        amount=None if amount is None else Decimal(amount),
        lines=tuple(lines),
        tier=tier,
        first_order=first_order,
    )


def other_event(event: str = "review.submitted", *, at: datetime = MON_NOON) -> Facts:
    return Facts(type=event, occurred_at=at, channel="web", store_id=None, amount=None)


def rule(rule_id: str, effect: Rule, *, events: list[str] | None = None, **fields: Any) -> Rule:
    return {"id": rule_id, "events": events or ["order.placed"], "effect": effect, **fields}


def per_unit(points: int = 1, **fields: Any) -> Rule:
    return {"type": "per_currency_unit", "points": points, **fields}


def fixed(points: int) -> Rule:
    return {"type": "fixed", "points": points}


def per_line(points: int, **fields: Any) -> Rule:
    return {"type": "per_line", "points": points, **fields}


def multiplier(factor: object) -> Rule:
    return {"type": "multiplier", "factor": factor}


def run(
    rules: list[Rule],
    facts: Facts,
    *,
    cap_used: Mapping[str, Mapping[str, int]] | None = None,
    budget_used: Mapping[str, int] | None = None,
) -> Evaluation:
    rule_set = parse_rule_set({"rules": rules})
    return evaluate(rule_set, facts, cap_used=cap_used or {}, budget_used=budget_used or {})


def award(evaluation: Evaluation, rule_id: str) -> Award:
    found = [a for a in evaluation.awards if a.rule_id == rule_id]
    assert len(found) == 1, f"expected one award of {rule_id!r}, got {evaluation.awards!r}"
    return found[0]


def award_ids(evaluation: Evaluation) -> list[str]:
    return [a.rule_id for a in evaluation.awards]


def skipped_ids(evaluation: Evaluation) -> list[str]:
    return [rule_id for rule_id, _ in evaluation.skipped]


def reason(evaluation: Evaluation, rule_id: str) -> str:
    found = [why for skipped_id, why in evaluation.skipped if skipped_id == rule_id]
    assert len(found) == 1, f"expected {rule_id!r} skipped once, got {evaluation.skipped!r}"
    return found[0]


def applies(evaluation: Evaluation, rule_id: str) -> bool:
    """True when the rule awarded; False when it was skipped (and then it gave nothing)."""
    awarded = rule_id in award_ids(evaluation)
    skipped = rule_id in skipped_ids(evaluation)
    assert awarded != skipped, f"{rule_id!r} must be either awarded or skipped: {evaluation!r}"
    return awarded


def error_paths(data: object) -> list[str]:
    with pytest.raises(RuleSetError) as info:
        parse_rule_set(data)
    errors = info.value.errors
    assert errors, "a RuleSetError must carry at least one error"
    for error in errors:
        assert set(error) >= {"path", "message"}
        assert isinstance(error["path"], str)
        assert isinstance(error["message"], str)
        assert error["message"]
    return [error["path"] for error in errors]


def has_path_under(paths: list[str], prefix: str) -> bool:
    return any(p == prefix or p.startswith((prefix + ".", prefix + "[")) for p in paths)


def valid_rule(**overrides: Any) -> Rule:
    base: Rule = {"id": "r", "events": ["order.placed"], "effect": per_unit()}
    base.update(overrides)
    return base


def one(rule_json: Rule) -> dict[str, Any]:
    return {"rules": [rule_json]}


def check_lines(a: Award, facts: Facts) -> None:
    assert len(a.lines) == len(facts.lines)
    assert sum(a.lines) == a.points


# --- parsing: the documented examples ---------------------------------------------------------

DOC_EXAMPLE: dict[str, Any] = {
    "rules": [
        {
            "id": "base",
            "name": "1 point per dollar",
            "events": ["order.placed"],
            "effect": {"type": "per_currency_unit", "points": 1, "unit": 1, "rounding": "down"},
        },
        {
            "id": "weekend-double",
            "events": ["order.placed"],
            "conditions": {"days_of_week": ["sat", "sun"]},
            "effect": {"type": "multiplier", "factor": 2},
            "budget": 500000,
        },
        {
            "id": "review",
            "events": ["review.submitted"],
            "effect": {"type": "fixed", "points": 20},
            "caps": {"day": 40},
        },
    ]
}


def test_every_rule_set_in_the_docs_parses() -> None:
    """Every JSON block of docs/rules.md that is a rule set (API answers are not) parses."""
    blocks = re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    rule_sets = [
        data
        for data in (json.loads(block) for block in blocks)
        if isinstance(data, dict) and set(data) == {"rules"}
    ]
    assert rule_sets
    for data in rule_sets:
        parse_rule_set(data)


def test_docs_example_evaluates_as_described() -> None:
    rule_set = parse_rule_set(DOC_EXAMPLE)

    weekday = evaluate(rule_set, order("12.99", at=MON_NOON))
    assert weekday.total == 12
    assert award_ids(weekday) == ["base"]
    assert award(weekday, "base").rule_name == "1 point per dollar"
    assert "days_of_week" in reason(weekday, "weekend-double")
    assert "review" not in skipped_ids(weekday)

    weekend = evaluate(rule_set, order("12.99", at=SAT_NOON))
    assert award_ids(weekend) == ["base", "weekend-double"]
    assert award(weekend, "weekend-double").points == 12
    assert award(weekend, "weekend-double").rule_name == "weekend-double"
    assert weekend.total == 24

    review = evaluate(rule_set, other_event(), cap_used={"review": {"day": 30}})
    assert award_ids(review) == ["review"]
    assert (award(review, "review").points, award(review, "review").raw_points) == (10, 20)
    assert award(review, "review").cut_by == "cap:day"
    assert award(review, "review").lines == ()
    assert review.total == 10


def test_every_documented_field_condition_and_effect_parses() -> None:
    parse_rule_set(
        {
            "rules": [
                {
                    "id": "all-conditions_1",
                    "name": "Everything",
                    "active": True,
                    "events": ["order.placed", "custom.quiz"],
                    "conditions": {
                        "channels": ["web", "app", "pos", "other"],
                        "stores": ["s1", "s2"],
                        "min_amount": "10.00",
                        "max_amount": 500,
                        "skus": ["SKU-1"],
                        "categories": ["shoes"],
                        "tiers": ["gold"],
                        "first_order": True,
                        "starts_at": "2026-01-01T00:00:00Z",
                        "ends_at": "2026-02-01T00:00:00+00:00",
                        "days_of_week": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                        "time_from": "22:00",
                        "time_until": "02:00",
                    },
                    "effect": {
                        "type": "per_currency_unit",
                        "points": 2,
                        "unit": 5,
                        "rounding": "nearest",
                        "skus": ["SKU-1"],
                    },
                    "priority": 10,
                    "stacking": "stack",
                    "caps": {"day": 1, "week": 2, "month": 3, "lifetime": 4},
                    "budget": 1000,
                },
                rule("cats", per_unit(1, categories=["shoes"], rounding="up"), stacking="best_of"),
                rule("lines", per_line(3, skus=["A"]), active=False, priority=-1),
                rule("lines-cat", per_line(1, categories=["hats"])),
                rule("fix", fixed(1_000_000), stacking="exclusive"),
                rule("mult", multiplier(1.5)),
                rule("mult-100", multiplier(100)),
                rule("x" * 64, fixed(1), conditions={"first_order": False}),
            ]
        }
    )


def test_default_rule_set_is_json_and_awards_one_point_per_whole_unit_of_orders() -> None:
    assert json.loads(json.dumps(DEFAULT_RULE_SET)) == DEFAULT_RULE_SET
    rule_set = parse_rule_set(DEFAULT_RULE_SET)

    result = evaluate(rule_set, order("12.99"))
    assert result.total == 12
    assert len(result.awards) == 1
    assert result.awards[0].points == result.awards[0].raw_points == 12
    assert result.awards[0].cut_by is None

    assert evaluate(rule_set, order("0.99")).total == 0
    assert evaluate(rule_set, order("100.00", at=SAT_NOON)).total == 100

    review = evaluate(rule_set, other_event("review.submitted"))
    assert review.total == 0
    assert review.awards == ()


def test_default_rule_set_attributes_to_lines() -> None:
    facts = order("40.00", line("A", "30.00"), line("B", "10.00"))
    result = evaluate(parse_rule_set(DEFAULT_RULE_SET), facts)
    assert result.total == 40
    assert result.awards[0].lines == (30, 10)


# --- parsing: errors -------------------------------------------------------------------------


def test_missing_id_is_an_error_at_its_path() -> None:
    bad = valid_rule()
    del bad["id"]
    assert "rules[0].id" in error_paths(one(bad))


def test_duplicate_id_is_reported_at_the_second_rule() -> None:
    paths = error_paths({"rules": [valid_rule(id="same"), valid_rule(id="same")]})
    assert "rules[1].id" in paths
    assert not has_path_under(paths, "rules[0]")


def test_duplicate_id_is_reported_along_with_other_errors() -> None:
    data = {"rules": [valid_rule(id="a"), valid_rule(id="a"), valid_rule(id="b", effect=fixed(0))]}
    paths = error_paths(data)
    assert "rules[1].id" in paths
    assert "rules[2].effect.points" in paths


@pytest.mark.parametrize("bad_id", ["", "Base", "a b", "a.b", "é", "a/b", "x" * 65])
def test_bad_id_is_an_error(bad_id: str) -> None:
    assert "rules[0].id" in error_paths(one(valid_rule(id=bad_id)))


def test_id_of_64_allowed_characters_is_valid() -> None:
    parse_rule_set(one(valid_rule(id="a-z_0-9" + "x" * 57)))


def test_empty_events_is_an_error() -> None:
    assert "rules[0].events" in error_paths(one(valid_rule(events=[])))


def test_missing_events_and_effect_are_errors() -> None:
    bad = valid_rule()
    del bad["events"]
    del bad["effect"]
    paths = error_paths(one(bad))
    assert "rules[0].events" in paths
    assert "rules[0].effect" in paths


def test_unknown_effect_type_is_an_error() -> None:
    paths = error_paths(one(valid_rule(effect={"type": "bonus", "points": 5})))
    assert has_path_under(paths, "rules[0].effect")
    assert not has_path_under(paths, "rules[0].id")


@pytest.mark.parametrize("points", [0, -1, 1_000_001, 1.5, "ten", None])
@pytest.mark.parametrize("effect_type", ["per_currency_unit", "per_line", "fixed"])
def test_bad_points_are_an_error(effect_type: str, points: object) -> None:
    paths = error_paths(one(valid_rule(effect={"type": effect_type, "points": points})))
    assert "rules[0].effect.points" in paths


@pytest.mark.parametrize("points", [1, 1_000_000])
@pytest.mark.parametrize("effect_type", ["per_currency_unit", "per_line", "fixed"])
def test_points_bounds_are_valid(effect_type: str, points: int) -> None:
    parse_rule_set(one(valid_rule(effect={"type": effect_type, "points": points})))


def test_points_error_path_names_the_rule_index() -> None:
    paths = error_paths({"rules": [valid_rule(id="a"), valid_rule(id="b", effect=fixed(0))]})
    assert paths == ["rules[1].effect.points"]


@pytest.mark.parametrize("factor", [1, "1", 0.5, 0, -2, 100.01, 101, "abc"])
def test_bad_factor_is_an_error(factor: object) -> None:
    assert "rules[0].effect.factor" in error_paths(one(valid_rule(effect=multiplier(factor))))


@pytest.mark.parametrize("factor", [1.01, 1.5, 2, 99.99, 100])
def test_factor_bounds_are_valid(factor: float) -> None:
    parse_rule_set(one(valid_rule(effect=multiplier(factor))))


@pytest.mark.parametrize("rounding", ["half_up", "DOWN", "", 1])
def test_bad_rounding_is_an_error(rounding: object) -> None:
    paths = error_paths(one(valid_rule(effect=per_unit(1, rounding=rounding))))
    assert "rules[0].effect.rounding" in paths


@pytest.mark.parametrize("rounding", ["down", "nearest", "up"])
def test_documented_roundings_are_valid(rounding: str) -> None:
    parse_rule_set(one(valid_rule(effect=per_unit(1, rounding=rounding))))


def test_unknown_condition_key_is_an_error() -> None:
    paths = error_paths(one(valid_rule(conditions={"colour": ["red"]})))
    assert has_path_under(paths, "rules[0].conditions")


def test_unknown_rule_and_effect_fields_are_errors() -> None:
    paths = error_paths(one(valid_rule(colour="red")))
    assert "rules[0].colour" in paths or "rules[0]" in paths
    paths = error_paths(one(valid_rule(effect=fixed(5) | {"bonus": 1})))
    assert has_path_under(paths, "rules[0].effect")


def test_unknown_top_level_field_and_non_object_input_are_errors() -> None:
    error_paths({"rules": [valid_rule()], "extra": 1})
    error_paths("not a rule set")
    error_paths({"rules": "nope"})
    error_paths({"rules": [42]})


@pytest.mark.parametrize("days", [["funday"], ["sat", "sunday"], ["Monday"], "sat", [1]])
def test_bad_days_of_week_is_an_error(days: object) -> None:
    paths = error_paths(one(valid_rule(conditions={"days_of_week": days})))
    assert has_path_under(paths, "rules[0].conditions.days_of_week")


@pytest.mark.parametrize(
    "window", [{"time_from": "09:00"}, {"time_until": "17:00"}], ids=["from", "until"]
)
def test_half_a_time_window_is_an_error(window: Rule) -> None:
    assert has_path_under(error_paths(one(valid_rule(conditions=window))), "rules[0].conditions")


@pytest.mark.parametrize("bad", ["25:00", "12:60", "24:30", "9am", "1200", "", "12:00:00x"])
@pytest.mark.parametrize("field", ["time_from", "time_until"])
def test_bad_time_is_an_error(field: str, bad: str) -> None:
    window = {"time_from": "09:00", "time_until": "17:00", field: bad}
    paths = error_paths(one(valid_rule(conditions=window)))
    assert f"rules[0].conditions.{field}" in paths


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [
        ("2026-01-10T00:00:00Z", "2026-01-10T00:00:00Z"),
        ("2026-01-11T00:00:00Z", "2026-01-10T00:00:00Z"),
        ("2026-01-10T02:00:00+02:00", "2026-01-10T00:00:00Z"),
    ],
    ids=["equal", "after", "equal-other-offset"],
)
def test_starts_at_not_before_ends_at_is_an_error(starts_at: str, ends_at: str) -> None:
    conditions = {"starts_at": starts_at, "ends_at": ends_at}
    paths = error_paths(one(valid_rule(conditions=conditions)))
    assert has_path_under(paths, "rules[0].conditions")


def test_unparseable_date_is_an_error() -> None:
    paths = error_paths(one(valid_rule(conditions={"starts_at": "next tuesday"})))
    assert "rules[0].conditions.starts_at" in paths


@pytest.mark.parametrize("bad", ["lots", "1,5", [10]])
def test_unparseable_amount_condition_is_an_error(bad: object) -> None:
    paths = error_paths(one(valid_rule(conditions={"min_amount": bad})))
    assert "rules[0].conditions.min_amount" in paths


@pytest.mark.parametrize("period", ["day", "week", "month", "lifetime"])
def test_negative_cap_is_an_error(period: str) -> None:
    paths = error_paths(one(valid_rule(caps={period: -1})))
    assert f"rules[0].caps.{period}" in paths


def test_unknown_cap_period_is_an_error() -> None:
    paths = error_paths(one(valid_rule(caps={"year": 10})))
    assert has_path_under(paths, "rules[0].caps")


@pytest.mark.parametrize("stacking", ["always", "BEST_OF", "", 1])
def test_bad_stacking_is_an_error(stacking: object) -> None:
    assert "rules[0].stacking" in error_paths(one(valid_rule(stacking=stacking)))


def test_several_errors_are_reported_at_once() -> None:
    data = {
        "rules": [
            valid_rule(id="Bad Id"),
            valid_rule(id="ok", effect=per_unit(0, rounding="sideways"), stacking="always"),
            valid_rule(id="ok2", events=[], caps={"day": -5}),
        ]
    }
    paths = error_paths(data)
    for expected in [
        "rules[0].id",
        "rules[1].effect.points",
        "rules[1].effect.rounding",
        "rules[1].stacking",
        "rules[2].events",
        "rules[2].caps.day",
    ]:
        assert expected in paths, f"{expected} missing from {paths}"


# --- conditions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conditions", "facts", "holds"),
    [
        ({"channels": ["app", "pos"]}, order(channel="app"), True),
        ({"channels": ["app", "pos"]}, order(channel="pos"), True),
        ({"channels": ["app", "pos"]}, order(channel="web"), False),
        ({"stores": ["s1", "s9"]}, order(store_id="s1"), True),
        ({"stores": ["s1", "s9"]}, order(store_id="s2"), False),
        ({"stores": ["s1", "s9"]}, order(store_id=None), False),
        ({"min_amount": "10.00"}, order("10.00"), True),
        ({"min_amount": "10.00"}, order("9.99"), False),
        ({"min_amount": 10}, order("10"), True),
        ({"min_amount": 10}, order("9.999"), False),
        ({"min_amount": 10.5}, order("10.50"), True),
        ({"min_amount": 10.5}, order("10.49"), False),
        ({"min_amount": 0.1}, order("0.10"), True),
        ({"max_amount": "50"}, order("50.00"), True),
        ({"max_amount": "50"}, order("50.01"), False),
        ({"max_amount": 50}, order("0"), True),
        ({"min_amount": 10, "max_amount": 10}, order("10.00"), True),
        ({"skus": ["A", "Z"]}, order("5", line("B", "1"), line("A", "4")), True),
        ({"skus": ["A", "Z"]}, order("5", line("B", "1"), line("C", "4")), False),
        ({"skus": ["A"]}, order("5"), False),
        ({"categories": ["shoes"]}, order("5", line("A", "5", category="shoes")), True),
        ({"categories": ["shoes"]}, order("5", line("A", "5", category="hats")), False),
        ({"categories": ["shoes"]}, order("5", line("A", "5")), False),
        ({"categories": ["shoes"]}, order("5"), False),
        ({"tiers": ["gold", "silver"]}, order(tier="gold"), True),
        ({"tiers": ["gold", "silver"]}, order(tier="bronze"), False),
        ({"tiers": ["gold", "silver"]}, order(tier=None), False),
        ({"first_order": True}, order(first_order=True), True),
        ({"first_order": True}, order(first_order=False), False),
        ({"first_order": False}, order(first_order=False), True),
        ({"first_order": False}, order(first_order=True), False),
    ],
)
def test_condition(conditions: Rule, facts: Facts, holds: bool) -> None:
    result = run([rule("promo", fixed(7), conditions=conditions)], facts)
    assert applies(result, "promo") is holds
    assert result.total == (7 if holds else 0)
    if not holds:
        why = reason(result, "promo")
        assert any(name in why for name in conditions), f"{why!r} names no condition"


@pytest.mark.parametrize(
    ("at", "holds"),
    [
        (datetime(2026, 1, 10, 0, 0, tzinfo=UTC), True),
        (datetime(2026, 1, 10, 0, 0, tzinfo=UTC) - timedelta(microseconds=1), False),
        (datetime(2026, 1, 19, 23, 59, 59, tzinfo=UTC), True),
        (datetime(2026, 1, 20, 0, 0, tzinfo=UTC), False),
        (datetime(2026, 1, 25, 0, 0, tzinfo=UTC), False),
    ],
    ids=["at-start", "just-before-start", "just-before-end", "at-end", "after-end"],
)
def test_campaign_window_starts_inclusive_ends_exclusive(at: datetime, holds: bool) -> None:
    conditions = {"starts_at": "2026-01-10T00:00:00Z", "ends_at": "2026-01-20T00:00:00Z"}
    result = run([rule("promo", fixed(7), conditions=conditions)], order(at=at))
    assert applies(result, "promo") is holds
    if not holds:
        why = reason(result, "promo")
        assert "starts_at" in why or "ends_at" in why


def test_campaign_window_compares_instants_across_offsets() -> None:
    conditions = {"starts_at": "2026-01-10T02:00:00+02:00", "ends_at": "2026-01-10T06:00:00+05:00"}
    rules = [rule("promo", fixed(7), conditions=conditions)]
    assert not applies(run(rules, order(at=datetime(2026, 1, 9, 23, 59, tzinfo=UTC))), "promo")
    assert applies(run(rules, order(at=datetime(2026, 1, 10, 0, 0, tzinfo=UTC))), "promo")
    assert applies(run(rules, order(at=datetime(2026, 1, 10, 0, 59, tzinfo=UTC))), "promo")
    assert not applies(run(rules, order(at=datetime(2026, 1, 10, 1, 0, tzinfo=UTC))), "promo")


def test_only_one_end_of_a_campaign_window() -> None:
    since = [rule("promo", fixed(7), conditions={"starts_at": "2026-01-10T00:00:00Z"})]
    until = [rule("promo", fixed(7), conditions={"ends_at": "2026-01-10T00:00:00Z"})]
    late = order(at=datetime(2030, 1, 1, tzinfo=UTC))
    early = order(at=datetime(2020, 1, 1, tzinfo=UTC))
    assert applies(run(since, late), "promo")
    assert not applies(run(since, early), "promo")
    assert applies(run(until, early), "promo")
    assert not applies(run(until, late), "promo")


@pytest.mark.parametrize(
    ("at", "holds"),
    [
        (datetime(2026, 1, 3, 0, 0, tzinfo=UTC), True),  # Saturday, first instant
        (datetime(2026, 1, 4, 23, 59, 59, tzinfo=UTC), True),  # Sunday, last second
        (datetime(2026, 1, 2, 23, 59, 59, tzinfo=UTC), False),  # Friday
        (datetime(2026, 1, 5, 0, 0, tzinfo=UTC), False),  # Monday
        (datetime(2026, 1, 7, 12, 0, tzinfo=UTC), False),  # Wednesday
    ],
    ids=["sat-start", "sun-end", "fri-end", "mon-start", "wed"],
)
def test_days_of_week(at: datetime, holds: bool) -> None:
    result = run([rule("wk", fixed(7), conditions={"days_of_week": ["sat", "sun"]})], order(at=at))
    assert applies(result, "wk") is holds
    if not holds:
        assert "days_of_week" in reason(result, "wk")


@pytest.mark.parametrize(
    ("day", "name"),
    [(5, "mon"), (6, "tue"), (7, "wed"), (8, "thu"), (9, "fri"), (10, "sat"), (11, "sun")],
)
def test_each_day_name_matches_its_own_day_only(day: int, name: str) -> None:
    rules = [rule("d", fixed(1), conditions={"days_of_week": [name]})]
    for other in range(5, 12):
        at = datetime(2026, 1, other, 6, 0, tzinfo=UTC)
        assert applies(run(rules, order(at=at)), "d") is (other == day)


@pytest.mark.parametrize(
    ("hour", "minute", "second", "holds"),
    [
        (9, 0, 0, True),
        (16, 59, 59, True),
        (12, 0, 0, True),
        (17, 0, 0, False),
        (8, 59, 59, False),
        (0, 0, 0, False),
        (23, 0, 0, False),
    ],
)
def test_time_window(hour: int, minute: int, second: int, holds: bool) -> None:
    conditions = {"time_from": "09:00", "time_until": "17:00"}
    at = datetime(2026, 1, 5, hour, minute, second, tzinfo=UTC)
    result = run([rule("happy", fixed(7), conditions=conditions)], order(at=at))
    assert applies(result, "happy") is holds
    if not holds:
        assert "time" in reason(result, "happy")


@pytest.mark.parametrize(
    ("hour", "minute", "second", "holds"),
    [
        (22, 0, 0, True),
        (23, 59, 59, True),
        (0, 0, 0, True),
        (1, 59, 59, True),
        (2, 0, 0, False),
        (21, 59, 59, False),
        (12, 0, 0, False),
    ],
)
def test_time_window_wrapping_midnight(hour: int, minute: int, second: int, holds: bool) -> None:
    conditions = {"time_from": "22:00", "time_until": "02:00"}
    at = datetime(2026, 1, 5, hour, minute, second, tzinfo=UTC)
    result = run([rule("night", fixed(7), conditions=conditions)], order(at=at))
    assert applies(result, "night") is holds
    if not holds:
        assert "time" in reason(result, "night")


@pytest.mark.parametrize(
    "conditions",
    [{"min_amount": 0}, {"max_amount": 1_000_000}, {"min_amount": "0", "max_amount": "10"}],
)
def test_amount_conditions_never_hold_without_an_amount(conditions: Rule) -> None:
    facts = other_event("custom.quiz")
    result = run([rule("q", fixed(5), events=["custom.quiz"], conditions=conditions)], facts)
    assert not applies(result, "q")
    assert result.total == 0
    why = reason(result, "q")
    assert any(name in why for name in conditions)


def test_order_without_amount_does_not_meet_amount_conditions() -> None:
    result = run([rule("q", fixed(5), conditions={"max_amount": 100})], order(None))
    assert not applies(result, "q")


def test_all_conditions_must_hold() -> None:
    conditions = {"channels": ["app"], "tiers": ["gold"], "min_amount": 10}
    rules = [rule("promo", fixed(7), conditions=conditions)]
    assert applies(run(rules, order("10", channel="app", tier="gold")), "promo")
    assert not applies(run(rules, order("10", channel="web", tier="gold")), "promo")
    assert "channels" in reason(run(rules, order("10", channel="web", tier="gold")), "promo")
    assert "tiers" in reason(run(rules, order("10", channel="app", tier="silver")), "promo")
    assert "min_amount" in reason(run(rules, order("9", channel="app", tier="gold")), "promo")


def test_conditions_hold_on_non_order_events() -> None:
    facts = Facts(
        type="custom.quiz",
        occurred_at=SAT_NOON,
        channel="app",
        store_id=None,
        amount=None,
        tier="gold",
    )
    conditions = {"channels": ["app"], "tiers": ["gold"], "days_of_week": ["sat"]}
    result = run([rule("quiz", fixed(15), events=["custom.quiz"], conditions=conditions)], facts)
    assert result.total == 15
    assert award(result, "quiz").lines == ()


# --- effects ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effect", "amount", "points"),
    [
        (per_unit(1), "12.99", 12),
        (per_unit(1, unit=1, rounding="down"), "12.00", 12),
        (per_unit(1), "0.99", 0),
        (per_unit(2), "12.40", 24),
        (per_unit(2), "12.00", 24),
        (per_unit(1, unit=5), "24.99", 4),
        (per_unit(1, unit=5), "25.00", 5),
        (per_unit(2, unit=5), "22.00", 8),
        (per_unit(2, unit=5), "25.00", 10),
        (per_unit(2, unit=5), "2.00", 0),
        (per_unit(1, rounding="down"), "12.99", 12),
        (per_unit(1, rounding="up"), "12.01", 13),
        (per_unit(1, rounding="up"), "12.00", 12),
        (per_unit(1, rounding="nearest"), "12.49", 12),
        (per_unit(1, rounding="nearest"), "12.50", 13),
        (per_unit(1, rounding="nearest"), "13.50", 14),
        (per_unit(1, rounding="nearest"), "12.51", 13),
        (per_unit(1, unit=5, rounding="nearest"), "22.50", 5),
        (per_unit(1, unit=5, rounding="nearest"), "22.49", 4),
        (per_unit(1, unit=5, rounding="up"), "20.01", 5),
        (per_unit(2, unit=5, rounding="up"), "23.00", 10),
        (per_unit(2, unit=5, rounding="nearest"), "21.00", 8),
        (per_unit(2, unit=5, rounding="nearest"), "24.00", 10),
    ],
)
def test_per_currency_unit(effect: Rule, amount: str, points: int) -> None:
    result = run([rule("pcu", effect)], order(amount))
    assert result.total == points
    assert award(result, "pcu").raw_points == points


def test_per_currency_unit_uses_the_order_total_not_the_lines() -> None:
    facts = order("60.00", line("A", "30.00"), line("B", "10.00"))
    result = run([rule("pcu", per_unit(1))], facts)
    assert result.total == 60
    assert award(result, "pcu").lines == (45, 15)


def test_per_currency_unit_with_sku_filter_sums_matching_lines() -> None:
    facts = order("27.50", line("A", "5.00", 2), line("B", "7.50"), line("C", "10.00"))
    result = run([rule("pcu", per_unit(1, skus=["A", "C"]))], facts)
    assert result.total == 20
    assert award(result, "pcu").lines == (10, 0, 10)


def test_per_currency_unit_with_category_filter_sums_matching_lines() -> None:
    facts = order(
        "30.49",
        line("A", "4.10", 3, category="shoes"),
        line("B", "7.50", category="hats"),
        line("C", "10.24"),
    )
    result = run([rule("pcu", per_unit(2, categories=["shoes"]))], facts)
    assert result.total == 24  # 2 x 12.30 = 24.6, down
    assert award(result, "pcu").lines == (24, 0, 0)


def test_per_currency_unit_filter_with_unit_and_rounding() -> None:
    facts = order("100", line("A", "12.50", category="x"), line("B", "80"), line("C", "10.00"))
    result = run([rule("pcu", per_unit(1, unit=5, rounding="nearest", skus=["A", "C"]))], facts)
    assert result.total == 5  # 22.50 / 5 = 4.5, half up
    assert award(result, "pcu").lines == (3, 0, 2)


def test_per_currency_unit_filter_without_matching_lines_awards_nothing() -> None:
    facts = order("50.00", line("B", "50.00"))
    result = run([rule("pcu", per_unit(1, skus=["A"]))], facts)
    assert result.total == 0


def test_per_line_awards_points_per_unit_of_quantity() -> None:
    facts = order("31.00", line("A", "1.00", 2), line("B", "10.00", 3))
    result = run([rule("pl", per_line(5))], facts)
    assert result.total == 25
    assert award(result, "pl").lines == (10, 15)


def test_per_line_with_sku_filter() -> None:
    facts = order("31.00", line("A", "1.00", 2), line("B", "10.00", 3), line("C", "9", 4))
    result = run([rule("pl", per_line(5, skus=["B"]))], facts)
    assert result.total == 15
    assert award(result, "pl").lines == (0, 15, 0)


def test_per_line_with_category_filter() -> None:
    facts = order(
        "31.00",
        line("A", "1.00", 2, category="tea"),
        line("B", "10.00", 3, category="cups"),
        line("C", "1.00", 1, category="tea"),
    )
    result = run([rule("pl", per_line(4, categories=["tea"]))], facts)
    assert result.total == 12
    assert award(result, "pl").lines == (8, 0, 4)


def test_per_line_without_lines_awards_nothing() -> None:
    assert run([rule("pl", per_line(5))], order("31.00")).total == 0


def test_fixed_awards_its_points_per_event_and_belongs_to_the_whole_order() -> None:
    facts = order("40.00", line("A", "30.00"), line("B", "10.00"))
    result = run([rule("fx", fixed(20))], facts)
    assert result.total == 20
    a = award(result, "fx")
    assert (a.points, a.raw_points, a.lines, a.cut_by) == (20, 20, (), None)


def test_fixed_on_a_custom_event() -> None:
    result = run([rule("quiz", fixed(3), events=["custom.quiz"])], other_event("custom.quiz"))
    assert result.total == 3
    assert award(result, "quiz").lines == ()


@pytest.mark.parametrize(
    ("factor", "base", "extra"),
    [(2, "12.99", 12), (1.5, "13.00", 6), (3, "10", 20), (1.25, "10", 2), (1.7, "10", 7)],
)
def test_multiplier_adds_factor_minus_one_times_the_base_rounded_down(
    factor: float, base: str, extra: int
) -> None:
    result = run([rule("base", per_unit(1)), rule("mult", multiplier(factor))], order(base))
    assert award(result, "mult").points == extra
    assert award(result, "mult").raw_points == extra
    assert result.total == int(Decimal(base)) + extra


def test_two_stacking_multipliers_give_base_times_four() -> None:
    rules = [rule("base", per_unit(1)), rule("x2", multiplier(2)), rule("x3", multiplier(3))]
    result = run(rules, order("25.00"))
    assert award(result, "x2").points == 25
    assert award(result, "x3").points == 50
    assert result.total == 100


def test_multiplier_applies_to_all_non_multiplier_awards() -> None:
    rules = [
        rule("base", per_unit(1)),
        rule("bonus", fixed(10)),
        rule("mult", multiplier(2)),
    ]
    result = run(rules, order("12.00"))
    assert award(result, "mult").points == 22
    assert result.total == 44


def test_multiplier_on_custom_event() -> None:
    rules = [
        rule("quiz", fixed(10), events=["custom.quiz"]),
        rule("x2", multiplier(2), events=["custom.quiz"]),
    ]
    result = run(rules, other_event("custom.quiz"))
    assert result.total == 20


# --- attribution to order lines -----------------------------------------------------------------


def test_attribution_is_proportional_to_line_amounts() -> None:
    facts = order("40.00", line("A", "30.00"), line("B", "10.00"))
    a = award(run([rule("pcu", per_unit(1))], facts), "pcu")
    assert a.points == 40
    assert a.lines == (30, 10)


def test_attribution_uses_line_amounts_quantity_times_price() -> None:
    facts = order("40.00", line("A", "10.00", 3), line("B", "10.00", 1))
    assert award(run([rule("pcu", per_unit(1))], facts), "pcu").lines == (30, 10)


def test_attribution_largest_remainder_with_three_equal_lines() -> None:
    facts = order("30.00", line("A", "10.00"), line("B", "10.00"), line("C", "10.00"))
    a = award(run([rule("pcu", per_unit(1, unit=3))], facts), "pcu")
    assert a.points == 10
    assert sum(a.lines) == 10
    assert sorted(a.lines) == [3, 3, 4]


def test_attribution_largest_remainder_goes_to_the_largest_fractions() -> None:
    # 10 points over 1:2:4 -> 1.43, 2.86, 5.71 -> floors 1, 2, 5; remainders favour lines 2 and 3
    facts = order("70.00", line("A", "10.00"), line("B", "20.00"), line("C", "40.00"))
    a = award(run([rule("pcu", per_unit(1, unit=7))], facts), "pcu")
    assert a.points == 10
    assert a.lines == (1, 3, 6)


def test_attribution_of_per_line_follows_quantities() -> None:
    facts = order("100", line("A", "99.00", 1), line("B", "0.25", 4))
    a = award(run([rule("pl", per_line(2))], facts), "pl")
    assert a.lines == (2, 8)


def test_attribution_gives_filtered_lines_nothing() -> None:
    facts = order("40.00", line("A", "30.00"), line("B", "10.00"), line("C", "10.00"))
    a = award(run([rule("pcu", per_unit(1, skus=["A", "C"]))], facts), "pcu")
    assert a.lines == (30, 0, 10)


def test_attribution_without_lines_is_empty() -> None:
    a = award(run([rule("pcu", per_unit(1))], order("40.00")), "pcu")
    assert a.points == 40
    assert a.lines == ()


def test_multiplier_attribution_follows_the_base() -> None:
    facts = order("70.00", line("A", "10.00"), line("B", "20.00"), line("C", "40.00"))
    rules = [rule("pcu", per_unit(1, unit=7)), rule("x2", multiplier(2))]
    result = run(rules, facts)
    assert award(result, "pcu").lines == (1, 3, 6)
    assert award(result, "x2").lines == (1, 3, 6)


def test_multiplier_attribution_follows_the_base_with_a_fractional_factor() -> None:
    facts = order("40.00", line("A", "30.00"), line("B", "10.00"))
    result = run([rule("pcu", per_unit(1)), rule("x", multiplier(1.5))], facts)
    assert award(result, "x").points == 20
    assert award(result, "x").lines == (15, 5)


def test_multiplier_attribution_follows_a_filtered_base() -> None:
    facts = order("40.00", line("A", "30.00"), line("B", "10.00"))
    result = run([rule("pl", per_line(7, skus=["B"])), rule("x3", multiplier(3))], facts)
    assert award(result, "pl").lines == (0, 7)
    assert award(result, "x3").lines == (0, 14)


def test_multiplier_attribution_follows_several_bases() -> None:
    facts = order("40.00", line("A", "30.00"), line("B", "10.00"))
    rules = [rule("pcu", per_unit(1)), rule("pl", per_line(5)), rule("x2", multiplier(2))]
    result = run(rules, facts)
    assert award(result, "pcu").lines == (30, 10)
    assert award(result, "pl").lines == (5, 5)
    assert award(result, "x2").lines == (35, 15)


def test_every_award_on_an_order_with_lines_attributes_all_its_points() -> None:
    facts = order(
        "123.45",
        line("A", "19.99", 3, category="x"),
        line("B", "0.01", 7),
        line("C", "33.33", 1, category="y"),
        line("D", "7.77", 2, category="x"),
    )
    rules = [
        rule("pcu", per_unit(3, rounding="up")),
        rule("cat", per_unit(7, unit=2, categories=["x"])),
        rule("pl", per_line(3)),
        rule("m", multiplier(1.7)),
        rule("capped", per_unit(11), caps={"day": 100}),
    ]
    result = run(rules, facts, cap_used={"capped": {"day": 37}})
    assert len(result.awards) == 5
    for a in result.awards:
        check_lines(a, facts)
        assert all(points >= 0 for points in a.lines)
    assert result.total == sum(a.points for a in result.awards)


# --- stacking and order --------------------------------------------------------------------


def test_stack_rules_add_up() -> None:
    rules = [rule("a", fixed(5)), rule("b", per_unit(1), stacking="stack"), rule("c", fixed(1))]
    result = run(rules, order("10.00"))
    assert result.total == 16
    assert result.skipped == ()


def test_only_the_highest_priority_exclusive_applies() -> None:
    rules = [
        rule("plain", fixed(100)),
        rule("excl-low", fixed(5), stacking="exclusive", priority=1),
        rule("excl-high", fixed(7), stacking="exclusive", priority=5),
        rule("mult", multiplier(2)),
        rule("best", fixed(50), stacking="best_of"),
    ]
    result = run(rules, order("10"))
    assert award_ids(result) == ["excl-high"]
    assert result.total == 7
    for loser in ["plain", "excl-low", "mult", "best"]:
        why = reason(result, loser)
        assert "exclusive" in why
        assert "excl-high" in why


def test_exclusive_priority_tie_keeps_list_order() -> None:
    rules = [
        rule("first", fixed(5), stacking="exclusive"),
        rule("second", fixed(50), stacking="exclusive"),
    ]
    result = run(rules, order("10"))
    assert award_ids(result) == ["first"]
    assert "first" in reason(result, "second")


def test_exclusive_that_does_not_match_excludes_nothing() -> None:
    rules = [
        rule("plain", fixed(3)),
        rule("excl", fixed(7), stacking="exclusive", conditions={"channels": ["pos"]}),
    ]
    result = run(rules, order("10", channel="web"))
    assert award_ids(result) == ["plain"]
    assert "channels" in reason(result, "excl")


def test_exclusive_for_another_event_excludes_nothing() -> None:
    rules = [
        rule("plain", fixed(3)),
        rule("excl", fixed(7), stacking="exclusive", events=["review.submitted"]),
    ]
    result = run(rules, order("10"))
    assert award_ids(result) == ["plain"]
    assert "excl" not in skipped_ids(result)


def test_inactive_exclusive_excludes_nothing() -> None:
    rules = [rule("plain", fixed(3)), rule("excl", fixed(7), stacking="exclusive", active=False)]
    result = run(rules, order("10"))
    assert award_ids(result) == ["plain"]


def test_best_of_keeps_the_largest_award() -> None:
    rules = [
        rule("plain", fixed(1)),
        rule("small", fixed(10), stacking="best_of", priority=9),
        rule("large", per_unit(1), stacking="best_of"),
        rule("middle", per_line(4), stacking="best_of"),
    ]
    facts = order("12.00", line("A", "6.00", 2))
    result = run(rules, facts)
    assert sorted(award_ids(result)) == ["large", "plain"]
    assert result.total == 13
    for loser in ["small", "middle"]:
        assert "best_of" in reason(result, loser)


def test_best_of_skip_reason_names_the_winner() -> None:
    # The interface's example reason: ("w", "best_of: rule v awarded more").
    rules = [
        rule("small", fixed(10), stacking="best_of"),
        rule("large", fixed(12), stacking="best_of"),
    ]
    result = run(rules, order("12.00"))
    assert award_ids(result) == ["large"]
    assert "large" in reason(result, "small")


def test_best_of_tie_goes_to_the_higher_priority() -> None:
    rules = [
        rule("low", fixed(10), stacking="best_of", priority=1),
        rule("high", per_unit(1), stacking="best_of", priority=2),
    ]
    result = run(rules, order("10.00"))
    assert award_ids(result) == ["high"]
    assert "best_of" in reason(result, "low")


def test_best_of_tie_with_equal_priority_goes_to_the_first_in_the_list() -> None:
    rules = [
        rule("first", per_unit(1), stacking="best_of"),
        rule("second", fixed(10), stacking="best_of"),
    ]
    result = run(rules, order("10.00"))
    assert award_ids(result) == ["first"]
    assert "best_of" in reason(result, "second")


def test_best_of_compares_points_before_caps() -> None:
    rules = [
        rule("big", fixed(50), stacking="best_of", caps={"day": 10}),
        rule("medium", fixed(30), stacking="best_of"),
    ]
    result = run(rules, order("10"))
    assert award_ids(result) == ["big"]
    assert (award(result, "big").points, award(result, "big").cut_by) == (10, "cap:day")
    assert result.total == 10


def test_best_of_multipliers_keep_the_highest_factor() -> None:
    rules = [
        rule("base", per_unit(1)),
        rule("x3", multiplier(3), stacking="best_of"),
        rule("x5", multiplier(5), stacking="best_of"),
        rule("x2", multiplier(2), stacking="best_of", priority=10),
    ]
    result = run(rules, order("10.00"))
    assert sorted(award_ids(result)) == ["base", "x5"]
    assert result.total == 50
    assert "best_of" in reason(result, "x3")
    assert "best_of" in reason(result, "x2")


def test_best_of_multipliers_compare_exact_factors() -> None:
    rules = [
        rule("base", per_unit(1)),
        rule("tiny", multiplier(1.0001), stacking="best_of", priority=5),
        rule("less-tiny", multiplier(1.0009), stacking="best_of"),
    ]
    result = run(rules, order("10000.00"))
    assert award_ids(result) == ["base", "less-tiny"]
    assert award(result, "less-tiny").points == 9
    assert "best_of" in reason(result, "tiny")


def test_best_of_multipliers_are_chosen_apart_from_best_of_awards() -> None:
    rules = [
        rule("a", fixed(5), stacking="best_of"),
        rule("b", fixed(8), stacking="best_of"),
        rule("x2", multiplier(2), stacking="best_of"),
        rule("x1_5", multiplier(1.5), stacking="best_of"),
        rule("s3", multiplier(3)),
    ]
    result = run(rules, order("10.00"))
    assert sorted(award_ids(result)) == ["b", "s3", "x2"]
    assert award(result, "x2").points == 8
    assert award(result, "s3").points == 16
    assert result.total == 32


def test_awards_follow_priority_then_list_order_and_multipliers_come_last() -> None:
    rules = [
        rule("mult", multiplier(2), priority=100),
        rule("low", fixed(1)),
        rule("high", fixed(2), priority=5),
        rule("mid", fixed(3), priority=2),
        rule("low-2", fixed(4)),
        rule("negative", fixed(5), priority=-3),
    ]
    result = run(rules, order("10"))
    assert award_ids(result) == ["high", "mid", "low", "low-2", "negative", "mult"]
    assert result.total == 30


def test_rule_name_defaults_to_the_id() -> None:
    rules = [rule("named", fixed(1), name="A nice name"), rule("bare", fixed(1))]
    result = run(rules, order("10"))
    assert award(result, "named").rule_name == "A nice name"
    assert award(result, "bare").rule_name == "bare"


# --- caps and budgets ------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["day", "week", "month", "lifetime"])
def test_cap_cuts_the_award(period: str) -> None:
    rules = [rule("capped", per_unit(1), caps={period: 100})]
    result = run(rules, order("12.00"), cap_used={"capped": {period: 95}})
    a = award(result, "capped")
    assert (a.points, a.raw_points, a.cut_by) == (5, 12, f"cap:{period}")
    assert result.total == 5


@pytest.mark.parametrize("period", ["day", "week", "month", "lifetime"])
def test_cap_not_reached_cuts_nothing(period: str) -> None:
    rules = [rule("capped", per_unit(1), caps={period: 100})]
    result = run(rules, order("12.00"), cap_used={"capped": {period: 88}})
    a = award(result, "capped")
    assert (a.points, a.raw_points, a.cut_by) == (12, 12, None)


@pytest.mark.parametrize("period", ["day", "week", "month", "lifetime"])
def test_cap_counts_only_its_own_period(period: str) -> None:
    others = {p: 1000 for p in ["day", "week", "month", "lifetime"] if p != period}
    rules = [rule("capped", fixed(20), caps={period: 40})]
    result = run(rules, order("1"), cap_used={"capped": {period: 0, **others}})
    assert award(result, "capped").points == 20
    assert award(result, "capped").cut_by is None


def test_cap_without_usage_recorded_starts_from_zero() -> None:
    rules = [rule("capped", fixed(50), caps={"day": 40})]
    result = run(rules, order("1"))
    a = award(result, "capped")
    assert (a.points, a.raw_points, a.cut_by) == (40, 50, "cap:day")
    other_rule_usage = run(rules, order("1"), cap_used={"someone-else": {"day": 40}})
    assert award(other_rule_usage, "capped").points == 40


@pytest.mark.parametrize("used", [40, 55])
def test_cap_fully_used_keeps_the_award_at_zero(used: int) -> None:
    facts = order("40.00", line("A", "30.00"), line("B", "10.00"))
    rules = [rule("plain", fixed(3)), rule("capped", per_unit(1), caps={"day": 40})]
    result = run(rules, facts, cap_used={"capped": {"day": used}})
    a = award(result, "capped")
    assert (a.points, a.raw_points, a.cut_by) == (0, 40, "cap:day")
    assert a.lines == (0, 0)
    assert result.total == 3
    assert award_ids(result) == ["plain", "capped"]


def test_tightest_cap_cuts_and_is_named() -> None:
    rules = [rule("capped", fixed(20), caps={"day": 40, "week": 100, "month": 1000})]
    result = run(rules, order("1"), cap_used={"capped": {"day": 35, "week": 98, "month": 0}})
    a = award(result, "capped")
    assert (a.points, a.cut_by) == (2, "cap:week")
    result = run(rules, order("1"), cap_used={"capped": {"day": 38, "week": 90, "month": 0}})
    a = award(result, "capped")
    assert (a.points, a.cut_by) == (2, "cap:day")


def test_capped_award_attributes_its_cut_points_to_lines() -> None:
    facts = order("40.00", line("A", "30.00"), line("B", "10.00"))
    rules = [rule("capped", per_unit(1), caps={"lifetime": 1000})]
    result = run(rules, facts, cap_used={"capped": {"lifetime": 980}})
    a = award(result, "capped")
    assert (a.points, a.raw_points) == (20, 40)
    assert a.lines == (15, 5)


@pytest.mark.parametrize("used", [0, 479, 480])
def test_budget_not_reached(used: int) -> None:
    rules = [rule("camp", fixed(20), budget=500)]
    a = award(run(rules, order("1"), budget_used={"camp": used}), "camp")
    assert (a.points, a.raw_points, a.cut_by) == (20, 20, None)


def test_budget_cuts_the_award() -> None:
    rules = [rule("camp", fixed(20), budget=500)]
    result = run(rules, order("1"), budget_used={"camp": 495})
    a = award(result, "camp")
    assert (a.points, a.raw_points, a.cut_by) == (5, 20, "budget")
    assert result.total == 5


def test_budget_fully_used_keeps_the_award_at_zero() -> None:
    rules = [rule("plain", fixed(1)), rule("camp", fixed(20), budget=500)]
    result = run(rules, order("1"), budget_used={"camp": 500})
    a = award(result, "camp")
    assert (a.points, a.raw_points, a.cut_by) == (0, 20, "budget")
    assert result.total == 1


def test_caps_cut_before_budgets() -> None:
    rules = [rule("camp", fixed(30), caps={"day": 40}, budget=1000)]
    by_cap = run(rules, order("1"), cap_used={"camp": {"day": 30}}, budget_used={"camp": 985})
    assert (award(by_cap, "camp").points, award(by_cap, "camp").cut_by) == (10, "cap:day")
    by_budget = run(rules, order("1"), cap_used={"camp": {"day": 30}}, budget_used={"camp": 996})
    assert (award(by_budget, "camp").points, award(by_budget, "camp").cut_by) == (4, "budget")


def test_budget_of_one_rule_does_not_touch_another() -> None:
    rules = [rule("a", fixed(10), budget=10), rule("b", fixed(10), budget=100)]
    result = run(rules, order("1"), budget_used={"a": 10, "b": 0})
    assert award(result, "a").points == 0
    assert award(result, "b").points == 10
    assert result.total == 10


def test_multiplier_applies_to_the_capped_base() -> None:
    rules = [rule("base", per_unit(1), caps={"day": 30}), rule("x2", multiplier(2))]
    result = run(rules, order("50.00"))
    assert (award(result, "base").points, award(result, "base").raw_points) == (30, 50)
    assert award(result, "x2").points == 30
    assert result.total == 60


def test_multiplier_applies_to_the_budget_cut_base() -> None:
    rules = [rule("base", per_unit(1), budget=100), rule("x3", multiplier(3))]
    result = run(rules, order("50.00"), budget_used={"base": 90})
    assert award(result, "base").points == 10
    assert award(result, "x3").points == 20
    assert result.total == 30


def test_multiplier_of_a_base_capped_to_zero_gives_nothing() -> None:
    rules = [rule("base", per_unit(1), caps={"day": 30}), rule("x2", multiplier(2))]
    result = run(rules, order("50.00"), cap_used={"base": {"day": 30}})
    assert result.total == 0


def test_multiplier_has_its_own_cap() -> None:
    rules = [rule("base", per_unit(1)), rule("x2", multiplier(2), caps={"week": 50})]
    result = run(rules, order("30.00"), cap_used={"x2": {"week": 40}})
    a = award(result, "x2")
    assert (a.points, a.raw_points, a.cut_by) == (10, 30, "cap:week")
    assert result.total == 40


def test_multiplier_has_its_own_budget() -> None:
    facts = order("30.00", line("A", "20.00"), line("B", "10.00"))
    rules = [rule("base", per_unit(1)), rule("x2", multiplier(2), budget=500000)]
    result = run(rules, facts, budget_used={"x2": 499994})
    a = award(result, "x2")
    assert (a.points, a.raw_points, a.cut_by) == (6, 30, "budget")
    check_lines(a, facts)
    assert a.lines == (4, 2)
    assert result.total == 36


def test_inactive_rules_never_apply() -> None:
    rules = [
        rule("on", fixed(1), active=True),
        rule("off", fixed(100), active=False),
        rule("off-mult", multiplier(10), active=False),
    ]
    result = run(rules, order("10"))
    assert award_ids(result) == ["on"]
    assert result.total == 1


def test_rules_for_another_event_type_never_appear() -> None:
    rules = [
        rule("order", per_unit(1)),
        rule("review", fixed(20), events=["review.submitted"]),
        rule("quiz", fixed(5), events=["custom.quiz"], conditions={"channels": ["pos"]}),
        rule("both", fixed(2), events=["review.submitted", "order.placed"]),
    ]
    on_order = run(rules, order("10.00"))
    assert award_ids(on_order) == ["order", "both"]
    assert {"review", "quiz"}.isdisjoint(skipped_ids(on_order))
    assert on_order.total == 12

    on_review = run(rules, other_event("review.submitted"))
    assert award_ids(on_review) == ["review", "both"]
    assert {"order", "quiz"}.isdisjoint(skipped_ids(on_review))
    assert on_review.total == 22


def test_evaluation_of_nothing() -> None:
    result = run([rule("review", fixed(20), events=["review.submitted"])], order("10"))
    assert result.awards == ()
    assert result.skipped == ()
    assert result.total == 0


def test_evaluate_does_not_mutate_its_inputs() -> None:
    rule_set = parse_rule_set(DOC_EXAMPLE)
    cap_used = {"review": {"day": 30}}
    budget_used = {"weekend-double": 10}
    first = evaluate(rule_set, other_event(), cap_used=cap_used, budget_used=budget_used)
    second = evaluate(rule_set, other_event(), cap_used=cap_used, budget_used=budget_used)
    assert first == second
    assert cap_used == {"review": {"day": 30}}
    assert budget_used == {"weekend-double": 10}
