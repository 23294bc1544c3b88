"""Tiers in earning: the multiplier (and its refund), rules with a tier condition, the points
metric, and tier events that clients cannot send."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from tests.conftest import START, Api
from tests.events.test_events_api import event, line, order_data, post_event, send
from tests.tiers.helpers import at, buy, put_tiers, refund, tier_of


def _grant(api: Api, member_id: int, tier: str) -> None:
    response = api.client.post(
        f"/v1/members/{member_id}/tier",
        json={"tier": tier, "reason": "test"},
        headers=api.headers(),
    )
    assert response.status_code == 200, response.text


def _awards(
    db: Database, program_id: int, order_id: str
) -> list[tuple[str, str, int, int, list[int]]]:
    with db.reader() as session:
        rows = session.execute(
            text(
                "SELECT a.rule_id, a.effect, a.points, a.reversed_points, a.lines FROM awards a "
                "JOIN orders o ON o.event_id = a.event_id WHERE o.program_id = :p "
                "AND o.order_id = :o ORDER BY a.id"
            ),
            {"p": program_id, "o": order_id},
        ).all()
    return [(str(r[0]), str(r[1]), int(r[2]), int(r[3]), json.loads(r[4])) for r in rows]


def test_the_multiplier_is_an_award_that_refunds_line_by_line(
    api: Api, db: Database, clock: FixedClock
) -> None:
    put_tiers(api)
    member = buy(api, clock, "mul", "1.00", START)["member_id"]
    _grant(api, member, "Gold")
    data = order_data(line("a", 2, "30.00"), line("b", 1, "40.00"))
    placed = send(api, event("order.placed", data, customer="mul", at=START))
    assert placed["points"]["awarded"] == 150
    assert [(a["rule_id"], a["points"]) for a in placed["awards"]] == [
        ("base", 100),
        ("tier:Gold", 50),
    ]
    assert _awards(db, api.program.id, data["order_id"]) == [
        ("base", "per_currency_unit", 100, 0, [60, 40]),
        ("tier:Gold", "multiplier", 50, 0, [30, 20]),
    ]
    explained = api.client.get(
        f"/v1/members/{member}/transactions/{placed['transaction_id']}/explain",
        headers=api.headers(),
    ).json()
    assert explained["awards"][1] == {
        "rule_id": "tier:Gold",
        "rule_name": "Gold tier x1.5",
        "points": 50,
        "before_caps": 50,
        "cut_by": None,
        "per_line": [30, 20],
    }
    some = {"order_id": data["order_id"], "lines": [{"sku": "b", "quantity": 1}]}
    body = event("order.refunded", some, customer="mul", at=START)
    refunded = send(api, body)
    assert refunded["points"]["reversed"] == 60
    assert refunded["reversed_awards"] == [
        {"rule_id": "base", "rule_version": 0, "points": 40},
        {"rule_id": "tier:Gold", "rule_version": 0, "points": 20},
    ]
    cancelled = send(api, event("order.cancelled", {"order_id": data["order_id"]}, customer="mul"))
    assert cancelled["points"]["reversed"] == 90
    balance = api.client.get(f"/v1/members/{member}/balance", headers=api.headers()).json()
    assert balance["available"] == 1  # the first order's, earned as a Member


def test_a_rule_with_a_tier_condition(api: Api, clock: FixedClock) -> None:
    put_tiers(api)
    rules = {
        "rules": [
            {
                "id": "base",
                "events": ["order.placed"],
                "effect": {"type": "per_currency_unit", "points": 1},
            },
            {
                "id": "gold-reviews",
                "events": ["review.submitted"],
                "conditions": {"tiers": ["Gold", "Platinum"]},
                "effect": {"type": "fixed", "points": 25},
            },
            {
                "id": "member-reviews",
                "events": ["review.submitted"],
                "conditions": {"tiers": ["Member"]},
                "effect": {"type": "fixed", "points": 5},
            },
        ]
    }
    assert api.client.put("/v1/rules", json=rules, headers=api.headers()).status_code == 200
    review: dict[str, Any] = {"sku": "a", "rating": 5}
    member = buy(api, clock, "rev", "10.00", START)["member_id"]
    as_member = send(api, event("review.submitted", review, customer="rev"))
    assert [a["rule_id"] for a in as_member["awards"]] == ["member-reviews"]
    buy(api, clock, "rev", "600.00", START)
    assert tier_of(api, member)["tier"] == "Gold"
    as_gold = send(api, event("review.submitted", review, customer="rev"))
    assert [(a["rule_id"], a["points"]) for a in as_gold["awards"]] == [
        ("gold-reviews", 25),
        ("tier:Gold", 12),
    ]


def test_the_points_metric_counts_earnings_less_reversals(api: Api, clock: FixedClock) -> None:
    put_tiers(api, metric="points", window="lifetime")
    first = buy(api, clock, "pts", "300.00", at(2026, 2, 1))
    member = first["member_id"]
    view = tier_of(api, member)
    assert (view["tier"], view["qualifying_value"], view["valid_until"]) == ("Silver", 300, None)
    assert view["progress"]["message"] == "earn 200 more points to reach Gold"
    refund(api, clock, "pts", first["order_id"], "100.00", at(2026, 2, 2))
    assert tier_of(api, member)["qualifying_value"] == 200
    buy(api, clock, "pts", "240.00", at(2026, 3, 1))  # Silver earns 300: 500 in all
    view = tier_of(api, member)
    assert (view["tier"], view["qualifying_value"], view["valid_until"]) == ("Gold", 500, None)


def test_tier_events_cannot_be_sent_by_clients(api: Api) -> None:
    put_tiers(api)
    forged = post_event(api, event("tier.upgraded", {"to": "Gold"}, customer="forger"))
    assert forged.status_code == 422
    assert forged.json()["error"]["code"] == "unknown_event_type"
    body = event("order.placed", order_data(line("a", 1, "1.00")), customer="forger")
    body["id"] = "tier-change:1"
    taken = post_event(api, body)
    assert taken.status_code == 422
    assert taken.json()["error"]["code"] == "validation_error"
