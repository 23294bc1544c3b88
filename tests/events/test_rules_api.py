"""/v1/rules (versions, validation, scopes) and the rule language of docs/rules.md end to end:
rules are PUT over the API and events are sent to /v1/events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import START, Api, ProgramFactory
from tests.events.test_events_api import (
    BASE,
    api_for,
    balance,
    enrol,
    error,
    error_paths,
    event,
    explain,
    fixed,
    line,
    member_id_of,
    multiplier,
    order_data,
    per_line,
    per_unit,
    place,
    put_rules,
    rule,
    send,
    uid,
)

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def get_rules(api: Api, scope: Scope = Scope.ADMIN) -> dict[str, Any]:
    response = api.client.get("/v1/rules", headers=api.headers(scope))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def put(api: Api, body: Any, scope: Scope = Scope.ADMIN) -> Any:
    return api.client.put("/v1/rules", json=body, headers=api.headers(scope))


def validate(api: Api, body: Any, scope: Scope = Scope.ADMIN) -> Any:
    return api.client.post("/v1/rules/validate", json=body, headers=api.headers(scope))


def awarded(result: dict[str, Any]) -> int:
    points: int = result["points"]["awarded"]
    return points


def by_rule(result: dict[str, Any]) -> dict[str, int]:
    return {a["rule_id"]: a["points"] for a in result["awards"]}


def review(api: Api, customer: str, at: datetime = START) -> dict[str, Any]:
    return send(api, event("review.submitted", {}, customer=customer, at=at))


# --- GET / PUT / validate ------------------------------------------------------------------

DEFAULT_RULE = {
    "id": "base",
    "events": ["order.placed"],
    "effect": {"type": "per_currency_unit", "points": 1, "unit": 1, "rounding": "down"},
}

INVALID = {
    "rules": [
        {"id": "Bad Id", "events": ["order.placed"], "effect": {"type": "fixed", "points": 0}},
        {"id": "ok", "events": [], "effect": {"type": "multiplier", "factor": 1}},
        {
            "id": "ok",
            "events": ["order.placed"],
            "effect": {"type": "fixed", "points": 5},
            "conditions": {"time_from": "22:00"},
            "colour": "red",
        },
    ]
}
INVALID_PATHS = {
    "rules[0].id",
    "rules[0].effect.points",
    "rules[1].events",
    "rules[1].effect.factor",
    "rules[2].id",  # duplicate
    "rules[2].conditions",
    "rules[2].colour",
}


def test_a_new_program_has_the_default_rule_set_as_version_0(api: Api) -> None:
    body = get_rules(api, Scope.ANALYST)

    assert body["version"] == 0
    [only] = body["rules"]
    assert {k: only[k] for k in DEFAULT_RULE} == DEFAULT_RULE


def test_each_put_makes_a_new_version(api: Api) -> None:
    first = [BASE]
    second = [BASE, rule("review", fixed(20), events=["review.submitted"], caps={"day": 40})]

    response = put(api, {"rules": first})
    assert response.status_code == 200, response.text
    assert response.json() == {"version": 1, "rules": first}
    assert get_rules(api) == {"version": 1, "rules": first}

    response = put(api, {"rules": second})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert get_rules(api) == {"version": 2, "rules": second}


def test_an_empty_rule_set_is_valid_and_earns_nothing(api: Api) -> None:
    assert put_rules(api) == 1

    result = place(api, uid("cust"), line("a", 1, "50.00"))

    assert awarded(result) == 0


def test_an_invalid_rule_set_is_refused_with_every_problem_and_its_path(api: Api) -> None:
    put_rules(api, BASE)

    response = put(api, INVALID)

    assert response.status_code == 422, response.text
    assert error(response)["code"] == "invalid_rules"
    assert set(error_paths(response)) >= INVALID_PATHS
    assert get_rules(api)["version"] == 1  # nothing saved


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "rules"),
        ({"rules": "base"}, "rules"),
        ({"rules": [{"id": "x", "events": ["order.placed"]}]}, "rules[0].effect"),
        (
            {"rules": [rule("x", {"type": "bonus", "points": 1})]},
            "rules[0].effect",
        ),
        ({"rules": [rule("x", per_unit(1, rounding="sideways"))]}, "rules[0].effect.rounding"),
        ({"rules": [rule("x", fixed(1_000_001))]}, "rules[0].effect.points"),
        ({"rules": [rule("x", multiplier("100.01"))]}, "rules[0].effect.factor"),
        ({"rules": [rule("x", fixed(1), events=["order"])]}, "rules[0].events"),
        ({"rules": [rule("x", fixed(1), stacking="first")]}, "rules[0].stacking"),
        ({"rules": [rule("x", fixed(1), caps={"year": 5})]}, "rules[0].caps.year"),
        ({"rules": [rule("x", fixed(1), budget=-1)]}, "rules[0].budget"),
        (
            {"rules": [rule("x", fixed(1), conditions={"days_of_week": ["funday"]})]},
            "rules[0].conditions.days_of_week[0]",
        ),
        (
            {"rules": [rule("x", fixed(1), conditions={"channels": ["fax"]})]},
            "rules[0].conditions.channels[0]",
        ),
        (
            {
                "rules": [
                    rule("x", fixed(1), conditions={"time_from": "25:00", "time_until": "01:00"})
                ]
            },
            "rules[0].conditions.time_from",
        ),
        (
            {
                "rules": [
                    rule(
                        "x",
                        fixed(1),
                        conditions={
                            "starts_at": "2026-02-01T00:00:00Z",
                            "ends_at": "2026-01-01T00:00:00Z",
                        },
                    )
                ]
            },
            "rules[0].conditions",
        ),
        (
            {"rules": [rule("x", fixed(1), conditions={"min_amount": "10", "max_amount": "5"})]},
            "rules[0].conditions",
        ),
        ({"rules": [BASE, rule("y", fixed(1)), dict(BASE)]}, "rules[2].id"),
    ],
    ids=[
        "no-rules",
        "rules-not-a-list",
        "no-effect",
        "unknown-effect",
        "rounding",
        "points-too-big",
        "factor-too-big",
        "event-name",
        "stacking",
        "cap-period",
        "budget",
        "day-name",
        "channel",
        "hhmm",
        "window-backwards",
        "amounts-backwards",
        "duplicate-id",
    ],
)
def test_each_kind_of_problem_is_reported_at_its_path(api: Api, body: Any, path: str) -> None:
    response = put(api, body)

    assert response.status_code == 422, response.text
    assert error(response)["code"] == "invalid_rules"
    assert path in error_paths(response)

    checked = validate(api, body)
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is False
    assert path in [e["path"] for e in checked.json()["errors"]]


def test_validate_checks_without_saving(api: Api) -> None:
    good = {"rules": [BASE, rule("double", multiplier(2))]}

    ok = validate(api, good, Scope.ANALYST)
    bad = validate(api, INVALID)

    assert ok.status_code == 200, ok.text
    assert ok.json() == {"valid": True, "errors": []}
    assert bad.status_code == 200, bad.text
    assert bad.json()["valid"] is False
    assert {e["path"] for e in bad.json()["errors"]} >= INVALID_PATHS
    assert all(e["message"] for e in bad.json()["errors"])
    assert get_rules(api)["version"] == 0
    assert awarded(place(api, uid("cust"), line("a", 1, "10.00"))) == 10  # default still


@pytest.mark.parametrize("scope", [Scope.STOREFRONT, Scope.POS, Scope.ANALYST])
def test_only_admin_keys_may_replace_the_rules(api: Api, scope: Scope) -> None:
    response = put(api, {"rules": [rule("base", per_unit(100))]}, scope)

    assert response.status_code == 403, response.text
    assert error(response)["code"] == "insufficient_scope"
    assert get_rules(api)["version"] == 0
    assert awarded(place(api, uid("cust"), line("a", 1, "10.00"))) == 10


def test_a_put_with_an_idempotency_key_is_applied_once(api: Api) -> None:
    headers = api.headers(Scope.ADMIN, **{"Idempotency-Key": uid("key")})
    body = {"rules": [rule("base", per_unit(2))]}

    first = api.client.put("/v1/rules", json=body, headers=headers)
    again = api.client.put("/v1/rules", json=body, headers=headers)

    assert first.status_code == again.status_code == 200, again.text
    assert again.json()["version"] == first.json()["version"] == 1
    assert get_rules(api)["version"] == 1


def test_rules_belong_to_one_program(
    api: Api, client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    other = api_for(client, db, make_program(), clock)

    put_rules(api, rule("base", per_unit(5)))

    assert get_rules(other)["version"] == 0
    assert awarded(place(other, uid("cust"), line("a", 1, "10.00"))) == 10
    assert awarded(place(api, uid("cust"), line("a", 1, "10.00"))) == 50


def test_awards_record_the_rule_version_that_produced_them(api: Api) -> None:
    customer = uid("cust")

    before = place(api, customer, line("a", 1, "10.00"))
    v1 = put_rules(api, rule("base", per_unit(2)))
    after = place(api, customer, line("a", 1, "10.00"))
    v2 = put_rules(api, rule("base", per_unit(3)), rule("bonus", fixed(1)))
    later = place(api, customer, line("a", 1, "10.00"))

    assert (v1, v2) == (1, 2)
    assert [(a["rule_id"], a["rule_version"], a["points"]) for a in before["awards"]] == [
        ("base", 0, 10)
    ]
    assert [(a["rule_id"], a["rule_version"], a["points"]) for a in after["awards"]] == [
        ("base", 1, 20)
    ]
    assert sorted((a["rule_id"], a["rule_version"], a["points"]) for a in later["awards"]) == [
        ("base", 2, 30),
        ("bonus", 2, 1),
    ]
    member = member_id_of(api, customer)
    assert explain(api, member, before["transaction_id"])["rule_version"] == 0
    assert explain(api, member, after["transaction_id"])["rule_version"] == 1


def test_an_inactive_rule_is_kept_but_never_applied(api: Api) -> None:
    put_rules(api, BASE, rule("paused", fixed(100), active=False))

    result = place(api, uid("cust"), line("a", 1, "10.00"))

    assert by_rule(result) == {"base": 10}
    assert [r["id"] for r in get_rules(api)["rules"]] == ["base", "paused"]


def test_a_rule_for_a_custom_event(api: Api) -> None:
    put_rules(api, rule("quiz", fixed(15), events=["custom.quiz_passed"]))

    hit = send(api, event("custom.quiz_passed", {"score": 9}))
    miss = send(api, event("custom.quiz_failed", {"score": 1}))

    assert awarded(hit) == 15
    assert awarded(miss) == 0


# --- conditions ------------------------------------------------------------------------------

# START is Thursday 2026-01-15 12:00 UTC; every moment here is before it.
SAT = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
SUN = datetime(2026, 1, 11, 12, 0, tzinfo=UTC)
FRI = datetime(2026, 1, 9, 12, 0, tzinfo=UTC)
MON = datetime(2026, 1, 12, 12, 0, tzinfo=UTC)
JAN14 = datetime(2026, 1, 14, tzinfo=UTC)

Case = dict[str, Any]

CONDITIONS: list[tuple[dict[str, Any], list[Case], list[Case]]] = [
    (
        {"channels": ["app", "pos"]},
        [{"channel": "app"}, {"channel": "pos"}],
        [{"channel": "web"}, {}],
    ),
    ({"stores": ["s1"]}, [{"store_id": "s1"}], [{"store_id": "s2"}, {}]),
    ({"min_amount": "50"}, [{"total": "50.00"}, {"total": "80.00"}], [{"total": "49.99"}]),
    ({"max_amount": 20}, [{"total": "20.00"}, {"total": "0.00"}], [{"total": "20.01"}]),
    (
        {"skus": ["gift"]},
        [{"lines": [line("x", 1, "5.00"), line("gift", 1, "5.00")]}],
        [{"lines": [line("x", 2, "5.00")]}, {"lines": []}],
    ),
    (
        {"categories": ["shoes"]},
        [{"lines": [line("x", 1, "5.00", "hats"), line("y", 1, "5.00", "shoes")]}],
        [{"lines": [line("x", 1, "5.00", "hats"), line("gift", 1, "5.00")]}],
    ),
    (
        {"starts_at": "2026-01-10T00:00:00Z", "ends_at": "2026-01-14T00:00:00Z"},
        [{"at": datetime(2026, 1, 10, tzinfo=UTC)}, {"at": JAN14 - timedelta(seconds=1)}],
        [{"at": datetime(2026, 1, 10, tzinfo=UTC) - timedelta(seconds=1)}, {"at": JAN14}],
    ),
    (
        {"starts_at": "2026-01-10T05:00:00+05:00"},  # midnight UTC
        [{"at": datetime(2026, 1, 10, tzinfo=UTC)}],
        [{"at": datetime(2026, 1, 9, 23, 59, tzinfo=UTC)}],
    ),
    (
        {"days_of_week": ["sat", "sun"]},
        [{"at": SAT}, {"at": SUN}],
        [{"at": FRI}, {"at": MON}, {"at": "2026-01-10T01:00:00+05:00"}],  # Friday in UTC
    ),
    (
        {"time_from": "22:00", "time_until": "02:00"},
        [
            {"at": JAN14 - 2 * HOUR},
            {"at": JAN14 - 30 * timedelta(minutes=1)},
            {"at": JAN14 + 2 * HOUR - timedelta(minutes=1)},
            {"at": "2026-01-13T20:30:00-02:00"},  # 22:30 UTC
        ],
        [
            {"at": JAN14 + 2 * HOUR},
            {"at": JAN14 - 2 * HOUR - timedelta(minutes=1)},
            {"at": "2026-01-13T23:30:00+05:00"},  # 18:30 UTC
        ],
    ),
    (
        {"time_from": "09:00", "time_until": "17:00"},
        [{"at": JAN14 + 9 * HOUR}, {"at": JAN14 + 17 * HOUR - timedelta(seconds=1)}],
        [{"at": JAN14 + 17 * HOUR}, {"at": JAN14 + 8 * HOUR}],
    ),
    ({"tiers": ["gold"]}, [], [{}]),  # members without a tier never match
]


def _order(api: Api, case: Case) -> dict[str, Any]:
    envelope = {k: v for k, v in case.items() if k in ("at", "channel", "store_id")}
    lines = case.get("lines", [line("x", 1, "10.00")])
    data = order_data(*lines, total=case.get("total"))
    return send(api, event("order.placed", data, customer=uid("cust"), **envelope))


@pytest.mark.parametrize(
    ("conditions", "hits", "misses"),
    CONDITIONS,
    ids=[
        "channels",
        "stores",
        "min_amount",
        "max_amount",
        "skus",
        "categories",
        "starts_at-ends_at",
        "starts_at-offset",
        "days_of_week",
        "time-window-wraps-midnight",
        "time-window",
        "tiers",
    ],
)
def test_each_condition_decides_whether_a_rule_applies(
    api: Api, conditions: dict[str, Any], hits: list[Case], misses: list[Case]
) -> None:
    put_rules(api, rule("bonus", fixed(100), conditions=conditions))

    assert [awarded(_order(api, case)) for case in hits] == [100] * len(hits)
    assert [awarded(_order(api, case)) for case in misses] == [0] * len(misses)


def test_amount_conditions_never_hold_for_events_without_an_amount(api: Api) -> None:
    put_rules(
        api,
        rule("big", fixed(10), events=["review.submitted"], conditions={"max_amount": "1000"}),
        rule("lines", fixed(20), events=["review.submitted"], conditions={"skus": ["a"]}),
        rule("plain", fixed(1), events=["review.submitted"]),
    )

    result = send(api, event("review.submitted", {"sku": "a"}))

    assert by_rule(result) == {"plain": 1}


def test_first_order_conditions(api: Api) -> None:
    put_rules(
        api,
        rule("welcome", fixed(100), conditions={"first_order": True}),
        rule("loyal", fixed(7), conditions={"first_order": False}),
    )
    customer = uid("cust")

    first = place(api, customer, line("a", 1, "10.00"), at=START - DAY)
    second = place(api, customer, line("a", 1, "10.00"))
    someone_else = place(api, uid("cust"), line("a", 1, "10.00"))

    assert by_rule(first) == {"welcome": 100}
    assert by_rule(second) == {"loyal": 7}
    assert by_rule(someone_else) == {"welcome": 100}


def test_all_conditions_of_a_rule_must_hold(api: Api) -> None:
    put_rules(api, rule("app-big", fixed(50), conditions={"channels": ["app"], "min_amount": 30}))

    both = _order(api, {"channel": "app", "total": "30.00"})
    only_channel = _order(api, {"channel": "app", "total": "29.99"})
    only_amount = _order(api, {"channel": "web", "total": "30.00"})

    assert [awarded(r) for r in (both, only_channel, only_amount)] == [50, 0, 0]


# --- effects ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effect", "total", "points"),
    [
        (per_unit(1), "12.99", 12),
        (per_unit(1, rounding="down"), "0.99", 0),
        (per_unit(1, rounding="nearest"), "12.50", 13),
        (per_unit(1, rounding="nearest"), "12.49", 12),
        (per_unit(1, rounding="up"), "12.01", 13),
        (per_unit(1, rounding="up"), "12.00", 12),
        (per_unit(5, unit=10), "99.99", 49),
        (per_unit(5, unit=10, rounding="nearest"), "99.99", 50),
        (per_unit(3, unit="2.5"), "10.00", 12),
        (per_unit(3, unit=3), "10.00", 10),  # multiply before dividing: exactly 10
        (per_unit(2, unit="0.5", rounding="up"), "1.01", 5),
    ],
)
def test_points_per_currency_unit_with_rounding(
    api: Api, effect: dict[str, Any], total: str, points: int
) -> None:
    put_rules(api, rule("earn", effect))

    result = place(api, uid("cust"), line("a", 1, total))

    assert awarded(result) == points


def test_points_per_currency_unit_of_matching_lines_only(api: Api) -> None:
    put_rules(
        api,
        rule("skus", per_unit(2, skus=["b"])),
        rule("cats", per_unit(1, categories=["hats"])),
    )

    result = place(
        api,
        uid("cust"),
        line("a", 2, "10.00", "shoes"),
        line("b", 1, "5.50", "shoes"),
        line("c", 3, "3.00", "hats"),
        total="50.00",
    )

    assert by_rule(result) == {"skus": 11, "cats": 9}


def test_points_per_line_unit(api: Api) -> None:
    put_rules(
        api,
        rule("every", per_line(2)),
        rule("shoes", per_line(5, categories=["shoes"])),
        rule("sku-c", per_line(1, skus=["c"])),
    )

    result = place(
        api, uid("cust"), line("a", 3, "1.00", "shoes"), line("b", 1, "100.00"), line("c", 2, "1")
    )

    assert by_rule(result) == {"every": 12, "shoes": 15, "sku-c": 2}


def test_a_fixed_bonus_per_event(api: Api) -> None:
    put_rules(
        api,
        rule("order-bonus", fixed(50)),
        rule("share", fixed(5), events=["social.shared"]),
        rule("recycle", fixed(8), events=["recycling.dropped_off"]),
    )

    order = place(api, uid("cust"), line("a", 1, "1000.00"))
    share = send(api, event("social.shared", {"platform": "x", "url": "https://x.com/1"}))
    recycle = send(api, event("recycling.dropped_off", {"items": 30}))

    assert [awarded(r) for r in (order, share, recycle)] == [50, 5, 8]


@pytest.mark.parametrize(
    ("rules", "total", "points"),
    [
        ([BASE, rule("double", multiplier(2))], "12.99", 24),
        ([BASE, rule("half", multiplier("1.5"))], "13.00", 19),  # 13 + floor(6.5)
        ([BASE, rule("x2", multiplier(2)), rule("x3", multiplier(3))], "12.00", 48),  # 4x
        ([BASE, rule("bonus", fixed(8)), rule("double", multiplier(2))], "12.00", 40),
        ([rule("double", multiplier(2))], "12.00", 0),  # nothing to multiply
    ],
    ids=["x2", "x1.5-rounds-down", "x2-and-x3-give-x4", "on-all-base-awards", "alone"],
)
def test_multipliers(api: Api, rules: list[dict[str, Any]], total: str, points: int) -> None:
    put_rules(api, *rules)

    result = place(api, uid("cust"), line("a", 1, total))

    assert awarded(result) == points


def test_a_multiplier_on_a_non_order_event(api: Api) -> None:
    put_rules(
        api,
        rule("review", fixed(20), events=["review.submitted"]),
        rule(
            "weekend",
            multiplier(3),
            events=["review.submitted"],
            conditions={"days_of_week": ["sat"]},
        ),
    )

    saturday = send(api, event("review.submitted", {}, at=SAT))
    friday = send(api, event("review.submitted", {}, at=FRI))

    assert (awarded(saturday), awarded(friday)) == (60, 20)


# --- caps and budgets --------------------------------------------------------------------------


def test_a_daily_cap_stops_the_third_review_and_resets_the_next_day(
    api: Api, clock: FixedClock
) -> None:
    put_rules(api, rule("review", fixed(20), events=["review.submitted"], caps={"day": 40}))
    customer = uid("cust")

    today = [review(api, customer, START - 3 * HOUR + i * HOUR) for i in range(3)]
    other_member = review(api, uid("cust"), START)
    clock.set(START + DAY)
    tomorrow = review(api, customer, START + DAY - HOUR)

    assert [awarded(r) for r in today] == [20, 20, 0]
    assert today[2]["awards"] == []
    assert awarded(other_member) == 20
    assert awarded(tomorrow) == 20
    assert balance(api, member_id_of(api, customer))["available"] == 60


def test_a_cap_cuts_an_award_partly_and_says_so(api: Api) -> None:
    put_rules(api, rule("review", fixed(30), events=["review.submitted"], caps={"day": 40}))
    customer = uid("cust")

    results = [review(api, customer, START - i * HOUR) for i in range(3)]

    assert [awarded(r) for r in results] == [30, 10, 0]
    [cut] = results[1]["awards"]
    assert cut["points"] == 10
    assert "cap" in cut["reason"]


def test_a_weekly_cap_counts_iso_weeks_starting_monday(api: Api) -> None:
    put_rules(api, rule("review", fixed(20), events=["review.submitted"], caps={"week": 40}))
    customer = uid("cust")

    # Monday 12 to Sunday 18 January is one ISO week; the 11th is the Sunday before it.
    sunday_before = review(api, customer, SUN)
    week = [review(api, customer, MON + i * DAY) for i in (0, 1, 2)]

    assert awarded(sunday_before) == 20
    assert [awarded(r) for r in week] == [20, 20, 0]


def test_a_monthly_cap(api: Api) -> None:
    put_rules(api, rule("review", fixed(25), events=["review.submitted"], caps={"month": 50}))
    customer = uid("cust")

    december = review(api, customer, datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    january = [review(api, customer, datetime(2026, 1, d, tzinfo=UTC)) for d in (1, 2, 3)]

    assert awarded(december) == 25
    assert [awarded(r) for r in january] == [25, 25, 0]


def test_a_lifetime_cap(api: Api, clock: FixedClock) -> None:
    put_rules(api, rule("welcome", fixed(30), events=["review.submitted"], caps={"lifetime": 50}))
    customer = uid("cust")

    first = review(api, customer, START - 2 * HOUR)
    second = review(api, customer, START - HOUR)
    clock.set(START + 400 * DAY)
    much_later = review(api, customer, START + 399 * DAY)

    assert [awarded(r) for r in (first, second, much_later)] == [30, 20, 0]
    assert "lifetime" in second["awards"][0]["reason"]


def test_a_campaign_budget_is_shared_by_all_members(api: Api) -> None:
    put_rules(api, BASE, rule("launch", fixed(100), budget=250))

    results = [place(api, uid("cust"), line("a", 1, "10.00")) for _ in range(4)]

    assert [by_rule(r).get("launch", 0) for r in results] == [100, 100, 50, 0]
    assert [by_rule(r)["base"] for r in results] == [10] * 4  # other rules carry on
    cut = next(a for a in results[2]["awards"] if a["rule_id"] == "launch")
    assert "budget" in cut["reason"]


def test_a_multiplier_has_its_own_budget(api: Api) -> None:
    put_rules(api, BASE, rule("double", multiplier(2), budget=15))

    results = [place(api, uid("cust"), line("a", 1, "10.00")) for _ in range(3)]

    assert [awarded(r) for r in results] == [20, 15, 10]


# --- stacking ----------------------------------------------------------------------------------


def test_stacking_rules_all_apply(api: Api) -> None:
    put_rules(api, BASE, rule("bonus", fixed(10), stacking="stack"))

    result = place(api, uid("cust"), line("a", 1, "12.99"))

    assert by_rule(result) == {"base": 12, "bonus": 10}
    assert awarded(result) == 22


def test_best_of_keeps_only_the_largest_best_of_award(api: Api) -> None:
    put_rules(
        api,
        BASE,
        rule("double-spend", per_unit(2), stacking="best_of"),
        rule("flat", fixed(50), stacking="best_of"),
    )
    customer = uid("cust")

    small = place(api, customer, line("a", 1, "12.99"))
    large = place(api, customer, line("a", 1, "40.00"))

    assert by_rule(small) == {"base": 12, "flat": 50}
    assert by_rule(large) == {"base": 40, "double-spend": 80}
    why = explain(api, member_id_of(api, customer), small["transaction_id"])
    assert [(s["rule_id"], "best_of" in s["why"]) for s in why["not_applied"]] == [
        ("double-spend", True)
    ]


def test_best_of_ties_go_to_the_higher_priority(api: Api) -> None:
    put_rules(
        api,
        rule("first", fixed(50), stacking="best_of"),
        rule("second", fixed(50), stacking="best_of", priority=1),
    )

    result = place(api, uid("cust"), line("a", 1, "1.00"))

    assert by_rule(result) == {"second": 50}


def test_best_of_ties_of_equal_priority_go_to_the_first_in_the_list(api: Api) -> None:
    put_rules(
        api,
        rule("first", fixed(50), stacking="best_of"),
        rule("second", fixed(50), stacking="best_of"),
    )

    result = place(api, uid("cust"), line("a", 1, "1.00"))

    assert by_rule(result) == {"first": 50}


def test_best_of_multipliers_keep_the_highest_factor(api: Api) -> None:
    put_rules(
        api,
        BASE,
        rule("x2", multiplier(2), stacking="best_of"),
        rule("x3", multiplier(3), stacking="best_of"),
    )

    result = place(api, uid("cust"), line("a", 1, "12.00"))

    assert by_rule(result) == {"base": 12, "x3": 24}


def test_an_exclusive_rule_applies_alone(api: Api) -> None:
    put_rules(
        api,
        BASE,
        rule("bonus", fixed(10)),
        rule("double", multiplier(2)),
        rule("vip-night", fixed(500), stacking="exclusive", conditions={"channels": ["app"]}),
    )

    app = place(api, uid("cust"), line("a", 1, "12.00"), channel="app")
    web = place(api, uid("cust"), line("a", 1, "12.00"), channel="web")

    assert by_rule(app) == {"vip-night": 500}
    assert by_rule(web) == {"base": 12, "bonus": 10, "double": 22}


def test_of_several_exclusive_rules_the_highest_priority_wins(api: Api) -> None:
    put_rules(
        api,
        rule("low", fixed(1000), stacking="exclusive"),
        rule("high", fixed(5), stacking="exclusive", priority=5),
        rule("also-high", fixed(7), stacking="exclusive", priority=5),
    )
    customer = uid("cust")

    result = place(api, customer, line("a", 1, "1.00"))

    assert by_rule(result) == {"high": 5}
    why = explain(api, member_id_of(api, customer), result["transaction_id"])
    assert {s["rule_id"] for s in why["not_applied"]} == {"low", "also-high"}


def test_caps_cut_rules_in_priority_order_before_multipliers_apply(api: Api) -> None:
    put_rules(
        api,
        rule("base", per_unit(1), caps={"day": 15}),
        rule("double", multiplier(2)),
    )
    customer = uid("cust")

    first = place(api, customer, line("a", 1, "10.00"), at=START - HOUR)
    second = place(api, customer, line("a", 1, "10.00"))

    assert by_rule(first) == {"base": 10, "double": 10}
    assert by_rule(second) == {"base": 5, "double": 5}


def test_a_member_enrolled_by_hand_earns_by_the_same_rules(api: Api) -> None:
    put_rules(api, rule("base", per_unit(3)))
    member = enrol(api)

    result = send(
        api, event("order.placed", order_data(line("a", 1, "2.00")), member={"id": member["id"]})
    )

    assert awarded(result) == 6
