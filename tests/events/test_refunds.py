"""order.refunded and order.cancelled: reversing exactly what the refunded lines earned, with
the rule version that earned it, from pending, available or (once spent) as debt. Every test
ends with `punchcard ledger verify` finding nothing wrong."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.ledger.tasks import run_ledger_jobs
from punchcard.programs.domain import Scope
from tests.conftest import START, Api, ProgramFactory
from tests.events.test_events_api import (
    BASE,
    api_for,
    assert_ledger_clean,
    balance,
    error,
    event,
    explain,
    fixed,
    line,
    member_id_of,
    multiplier,
    per_unit,
    place,
    post_event,
    put_rules,
    rule,
    send,
    transactions,
    uid,
)

DAY = timedelta(days=1)


class Shop:
    """One member of the test's program and their orders: 3 x 10.00 of sku a, 1 x 10.00 of b."""

    def __init__(self, api: Api, db: Database) -> None:
        self.api = api
        self.db = db
        self.customer = uid("cust")

    @property
    def member(self) -> int:
        return member_id_of(self.api, self.customer)

    def order(self, *lines: dict[str, Any], total: str | None = None) -> dict[str, Any]:
        lines = lines or (line("a", 3, "10.00"), line("b", 1, "10.00"))
        return place(self.api, self.customer, *lines, total=total)

    def refund_event(
        self,
        order_id: str,
        *,
        lines: dict[str, int] | None = None,
        amount: str | None = None,
        cancel: bool = False,
    ) -> dict[str, Any]:
        if cancel:
            return event("order.cancelled", {"order_id": order_id}, customer=self.customer)
        data: dict[str, Any] = {"order_id": order_id}
        if lines is not None:
            data["lines"] = [{"sku": sku, "quantity": q} for sku, q in lines.items()]
        if amount is not None:
            data["amount"] = amount
        return event("order.refunded", data, customer=self.customer)

    def post(self, order_id: str, **refund: Any) -> Any:
        return post_event(self.api, self.refund_event(order_id, **refund))

    def refund(self, order_id: str, **refund: Any) -> dict[str, Any]:
        response = self.post(order_id, **refund)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def balance(self) -> dict[str, Any]:
        return balance(self.api, self.member)

    def available(self) -> int:
        points: int = self.balance()["available"]
        return points

    def spend(self, points: int) -> Any:
        return self.api.client.post(
            f"/v1/members/{self.member}/spend",
            json={"points": points, "reason": "reward"},
            headers=self.api.headers(Scope.POS),
        )

    def clean(self) -> None:
        assert_ledger_clean(self.db, self.api.program.id)


@pytest.fixture
def shop(api: Api, db: Database) -> Shop:
    return Shop(api, db)


def reversed_points(result: dict[str, Any]) -> int:
    points: int = result["points"]["reversed"]
    return points


def reversed_by_rule(result: dict[str, Any]) -> dict[str, int]:
    return {a["rule_id"]: a["points"] for a in result["reversed_awards"]}


# --- partial and full refunds ------------------------------------------------------------------


def test_refunding_some_lines_reverses_exactly_what_they_earned(shop: Shop) -> None:
    placed = shop.order()
    assert placed["points"]["awarded"] == 40

    result = shop.refund(placed["order_id"], lines={"a": 1})

    assert reversed_points(result) == 10
    assert result["points"]["awarded"] == 0
    assert result["order_id"] == placed["order_id"]
    assert result["order_status"] == "partly_refunded"
    assert result["reversed_awards"] == [{"rule_id": "base", "rule_version": 0, "points": 10}]
    assert shop.available() == 30
    reversal = next(
        t for t in transactions(shop.api, shop.member) if t["id"] == result["transaction_id"]
    )
    assert reversal["reverses_id"] == placed["transaction_id"]
    assert reversal["points"] == 10
    shop.clean()


def test_successive_partial_refunds_then_the_rest_reverse_everything_exactly(shop: Shop) -> None:
    placed = shop.order()

    steps = [
        shop.refund(placed["order_id"], lines={"a": 1}),
        shop.refund(placed["order_id"], lines={"b": 1}),
        shop.refund(placed["order_id"], lines={"a": 2}),
    ]

    assert [reversed_points(r) for r in steps] == [10, 10, 20]
    assert [r["order_status"] for r in steps] == ["partly_refunded"] * 2 + ["refunded"]
    assert shop.available() == 0
    shop.clean()


def test_uneven_attribution_still_reverses_the_exact_total(api: Api, shop: Shop) -> None:
    put_rules(api, BASE, rule("half-more", multiplier("1.5")))
    placed = shop.order(line("a", 3, "3.33"), line("b", 1, "5.00"))  # 14.99: 14 + 7 points
    earned = placed["points"]["awarded"]
    assert earned == 21
    why = explain(api, shop.member, placed["transaction_id"])
    line_b = sum(a["per_line"][1] for a in why["awards"])

    steps = [
        shop.refund(placed["order_id"], lines={"b": 1}),
        *[shop.refund(placed["order_id"], lines={"a": 1}) for _ in range(3)],
    ]

    assert reversed_points(steps[0]) == line_b  # a whole line: exactly what it earned
    assert sum(reversed_points(r) for r in steps) == earned
    assert all(reversed_points(r) > 0 for r in steps)
    assert steps[-1]["order_status"] == "refunded"
    assert shop.available() == 0
    shop.clean()


def test_a_refund_by_amount_is_proportional(api: Api, shop: Shop) -> None:
    put_rules(api, BASE, rule("double", multiplier(2)))
    placed = shop.order()
    assert placed["points"]["awarded"] == 80

    quarter = shop.refund(placed["order_id"], amount="10.00")
    rest = shop.refund(placed["order_id"], amount="30.00")

    assert reversed_points(quarter) == 20
    assert reversed_by_rule(quarter) == {"base": 10, "double": 10}
    assert reversed_points(rest) == 60
    assert rest["order_status"] == "refunded"
    assert shop.available() == 0
    shop.clean()


@pytest.mark.parametrize(
    "partial", [{"lines": {"b": 1}}, {"amount": "10.00"}], ids=["by-lines", "by-amount"]
)
def test_a_fixed_bonus_is_reversed_only_by_a_full_refund(
    api: Api, shop: Shop, partial: dict[str, Any]
) -> None:
    put_rules(api, BASE, rule("order-bonus", fixed(25)))
    placed = shop.order()
    assert placed["points"]["awarded"] == 65

    part = shop.refund(placed["order_id"], **partial)
    cancelled = shop.refund(placed["order_id"], cancel=True)

    assert reversed_by_rule(part) == {"base": 10}
    assert reversed_by_rule(cancelled) == {"base": 30, "order-bonus": 25}
    assert cancelled["order_status"] == "refunded"
    assert shop.available() == 0
    shop.clean()


def test_refunding_every_line_also_reverses_the_fixed_bonus(api: Api, shop: Shop) -> None:
    put_rules(api, BASE, rule("order-bonus", fixed(25)))
    placed = shop.order()

    result = shop.refund(placed["order_id"], lines={"a": 3, "b": 1})

    assert reversed_by_rule(result) == {"base": 40, "order-bonus": 25}
    assert result["order_status"] == "refunded"
    assert shop.available() == 0
    shop.clean()


def test_a_partial_refund_by_amount_of_an_order_without_lines_keeps_the_fixed_bonus(
    api: Api, shop: Shop
) -> None:
    put_rules(api, BASE, rule("order-bonus", fixed(10)))
    placed = place(shop.api, shop.customer, total="40.00")  # no lines at all
    assert placed["points"]["awarded"] == 50

    result = shop.refund(placed["order_id"], amount="20.00")

    assert reversed_by_rule(result) == {"base": 20}  # docs/rules.md: fixed only on full refund
    assert reversed_points(result) == 20
    shop.clean()


def test_cancelling_an_order_reverses_everything(api: Api, shop: Shop) -> None:
    put_rules(api, BASE, rule("order-bonus", fixed(25)), rule("double", multiplier(2)))
    placed = shop.order()
    earned = placed["points"]["awarded"]
    assert earned == 130

    result = shop.refund(placed["order_id"], cancel=True)

    assert reversed_points(result) == earned
    assert result["type"] == "order.cancelled"
    assert result["order_status"] == "refunded"
    assert reversed_by_rule(result) == {"base": 40, "order-bonus": 25, "double": 65}
    assert shop.balance()["available"] == 0
    assert shop.balance()["debt"] == 0
    shop.clean()


def test_cancelling_after_partial_refunds_reverses_the_rest(shop: Shop) -> None:
    placed = shop.order()
    partial = [
        shop.refund(placed["order_id"], lines={"b": 1}),
        shop.refund(placed["order_id"], lines={"a": 1}),
        shop.refund(placed["order_id"], amount="5.00"),
    ]

    result = shop.refund(placed["order_id"], cancel=True)

    assert sum(reversed_points(r) for r in [*partial, result]) == 40
    assert result["order_status"] == "refunded"
    assert shop.available() == 0
    shop.clean()


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "refund",
    [
        {"lines": {"a": 4}},
        {"lines": {"a": 3, "b": 2}},
        {"lines": {"zzz": 1}},
        {"amount": "40.01"},
    ],
    ids=["quantity", "second-line", "unknown-sku", "amount"],
)
def test_refunding_more_than_was_bought_is_refused_and_changes_nothing(
    shop: Shop, refund: dict[str, Any]
) -> None:
    placed = shop.order()

    response = shop.post(placed["order_id"], **refund)

    assert response.status_code == 422, response.text
    assert error(response)["code"] == "refund_exceeds_order"
    assert shop.available() == 40
    assert len(transactions(shop.api, shop.member)) == 1
    # the order is untouched: all of it can still be refunded
    assert reversed_points(shop.refund(placed["order_id"], lines={"a": 3, "b": 1})) == 40
    shop.clean()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"lines": {"a": 2}}, {"lines": {"a": 2}}),
        ({"amount": "30.00"}, {"amount": "10.01"}),
    ],
    ids=["quantities", "amounts"],
)
def test_successive_refunds_may_not_add_up_to_more_than_was_bought(
    shop: Shop, first: dict[str, Any], second: dict[str, Any]
) -> None:
    placed = shop.order()
    shop.refund(placed["order_id"], **first)
    available = shop.available()

    response = shop.post(placed["order_id"], **second)

    assert response.status_code == 422, response.text
    assert error(response)["code"] == "refund_exceeds_order"
    assert shop.available() == available
    shop.clean()


def test_an_amount_refund_counts_what_line_refunds_already_gave_back(shop: Shop) -> None:
    placed = shop.order()
    shop.refund(placed["order_id"], lines={"b": 1})
    shop.refund(placed["order_id"], lines={"a": 2})  # 30.00 of 40.00 refunded

    response = shop.post(placed["order_id"], amount="20.00")

    assert response.status_code == 422, response.text
    assert error(response)["code"] == "refund_exceeds_order"
    assert shop.available() == 10
    shop.clean()


def test_an_amount_refund_after_a_line_refund_is_still_proportional(shop: Shop) -> None:
    placed = shop.order()  # 40.00 earns 40: one point per 1.00
    shop.refund(placed["order_id"], lines={"b": 1})  # 10.00 back, 10 points

    result = shop.refund(placed["order_id"], amount="10.00")  # 10.00 more of the 30.00 left

    assert reversed_points(result) == 10
    assert shop.available() == 20
    shop.clean()


def test_a_refund_of_an_unknown_order_is_not_found(shop: Shop) -> None:
    shop.order()

    response = shop.post("no-such-order", lines={"a": 1})
    cancel = shop.post("no-such-order", cancel=True)

    assert response.status_code == 404, response.text
    assert error(response)["code"] == "order_not_found"
    assert cancel.status_code == 404, cancel.text
    assert error(cancel)["code"] == "order_not_found"


def test_a_refund_naming_another_member_is_not_found(api: Api, db: Database, shop: Shop) -> None:
    placed = shop.order()
    stranger = Shop(api, db)
    stranger.order()

    response = stranger.post(placed["order_id"], lines={"a": 1})

    assert response.status_code == 404, response.text
    assert error(response)["code"] == "order_not_found"
    assert shop.available() == 40


def test_an_order_of_another_program_cannot_be_refunded(
    shop: Shop, client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    placed = shop.order()
    other = api_for(client, db, make_program(), clock)

    response = post_event(
        other, event("order.cancelled", {"order_id": placed["order_id"]}, customer=shop.customer)
    )

    assert response.status_code == 404, response.text
    assert error(response)["code"] == "order_not_found"
    assert shop.available() == 40


@pytest.mark.parametrize(
    "first",
    [{"cancel": True}, {"lines": {"a": 3, "b": 1}}, {"amount": "40.00"}],
    ids=["cancelled", "all-lines", "whole-amount"],
)
def test_an_order_refunded_in_full_cannot_be_refunded_again(
    shop: Shop, first: dict[str, Any]
) -> None:
    placed = shop.order()
    shop.refund(placed["order_id"], **first)

    again = shop.post(placed["order_id"], lines={"a": 1})
    cancel = shop.post(placed["order_id"], cancel=True)

    assert again.status_code == 409, again.text
    assert error(again)["code"] == "order_refunded"
    assert cancel.status_code == 409, cancel.text
    assert error(cancel)["code"] == "order_refunded"
    assert shop.available() == 0
    shop.clean()


def test_a_replayed_refund_event_reverses_once(shop: Shop) -> None:
    placed = shop.order()
    body = shop.refund_event(placed["order_id"], lines={"b": 1})

    first = send(shop.api, body)
    second = send(shop.api, body)

    assert second == first
    assert shop.available() == 30
    assert len(transactions(shop.api, shop.member)) == 2
    shop.clean()


def test_a_dry_run_refund_answers_and_changes_nothing(shop: Shop) -> None:
    placed = shop.order()
    body = shop.refund_event(placed["order_id"], lines={"b": 1})

    dry = send(shop.api, body, dry_run=True)
    real = send(shop.api, body)

    assert (dry["dry_run"], reversed_points(dry)) == (True, 10)
    assert (real["dry_run"], reversed_points(real)) == (False, 10)
    assert shop.available() == 30
    shop.clean()


def test_a_dry_run_refund_naming_a_stranger_is_refused_like_the_real_one(shop: Shop) -> None:
    placed = shop.order()
    body = event("order.cancelled", {"order_id": placed["order_id"]}, customer=uid("stranger"))

    real = post_event(shop.api, body)
    dry = post_event(shop.api, body, dry_run=True)

    assert real.status_code == 404, real.text
    assert error(real)["code"] == "order_not_found"
    assert dry.status_code == 404, dry.text  # a dry run answers what the real call would
    assert error(dry)["code"] == "order_not_found"


# --- spent and pending points ------------------------------------------------------------------


def test_a_refund_of_spent_points_leaves_a_debt_that_blocks_spending(shop: Shop) -> None:
    placed = shop.order()
    spent = shop.spend(35)
    assert spent.status_code == 201, spent.text

    result = shop.refund(placed["order_id"], cancel=True)

    assert reversed_points(result) == 40
    after = shop.balance()
    assert (after["available"], after["debt"]) == (0, 35)
    blocked = shop.spend(1)
    assert blocked.status_code == 409, blocked.text
    assert error(blocked)["code"] == "debt_outstanding"
    shop.clean()

    shop.order(line("c", 1, "12.99"))  # new credits pay the debt off first

    after = shop.balance()
    assert (after["available"], after["debt"]) == (0, 23)
    shop.clean()


def test_a_partial_refund_of_partly_spent_points(shop: Shop) -> None:
    placed = shop.order()
    assert shop.spend(35).status_code == 201

    shop.refund(placed["order_id"], lines={"b": 1})

    after = shop.balance()
    assert (after["available"], after["debt"]) == (0, 5)
    shop.clean()


def test_a_refund_while_points_are_pending_reduces_pending_and_makes_no_debt(
    client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    shop = Shop(api_for(client, db, make_program(pending_days=14), clock), db)
    placed = shop.order()
    assert placed["points"] == {"awarded": 0, "pending": 40, "reversed": 0}

    result = shop.refund(placed["order_id"], lines={"b": 1})

    assert reversed_points(result) == 10
    assert {k: shop.balance()[k] for k in ("available", "pending", "debt")} == {
        "available": 0,
        "pending": 30,
        "debt": 0,
    }
    shop.clean()

    run_ledger_jobs(db, now=START + 14 * DAY)
    clock.set(START + 14 * DAY)

    assert {k: shop.balance()[k] for k in ("available", "pending", "debt")} == {
        "available": 30,
        "pending": 0,
        "debt": 0,
    }
    later = shop.refund(placed["order_id"], cancel=True)  # now from available points
    assert reversed_points(later) == 30
    assert shop.balance()["available"] == 0
    assert shop.balance()["debt"] == 0
    shop.clean()


def test_cancelling_while_pending_voids_the_pending_points(
    client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    shop = Shop(api_for(client, db, make_program(pending_days=14), clock), db)
    placed = shop.order()

    shop.refund(placed["order_id"], cancel=True)
    run_ledger_jobs(db, now=START + 14 * DAY)
    clock.set(START + 14 * DAY)

    assert {k: shop.balance()[k] for k in ("available", "pending", "debt")} == {
        "available": 0,
        "pending": 0,
        "debt": 0,
    }
    shop.clean()


# --- rule versions and explanations ------------------------------------------------------------


def test_a_refund_reverses_with_the_rule_version_that_earned(api: Api, shop: Shop) -> None:
    v1 = put_rules(api, BASE, rule("double", multiplier(2)))
    placed = shop.order()
    v2 = put_rules(api, rule("base", per_unit(5)))

    result = shop.refund(placed["order_id"], lines={"b": 1})

    assert (v1, v2) == (1, 2)
    assert sorted(
        (a["rule_id"], a["rule_version"], a["points"]) for a in result["reversed_awards"]
    ) == [("base", 1, 10), ("double", 1, 10)]
    assert reversed_points(result) == 20
    assert shop.available() == 60
    shop.clean()


def test_a_refund_of_an_order_earned_under_the_default_rules_names_version_0(
    api: Api, shop: Shop
) -> None:
    placed = shop.order()
    put_rules(api, rule("new", fixed(1)))

    result = shop.refund(placed["order_id"], cancel=True)

    assert result["reversed_awards"] == [{"rule_id": "base", "rule_version": 0, "points": 40}]
    shop.clean()


def test_a_refund_transaction_is_explained_by_its_event(shop: Shop) -> None:
    placed = shop.order()
    body = shop.refund_event(placed["order_id"], lines={"b": 1})
    result = send(shop.api, body)

    why = explain(shop.api, shop.member, result["transaction_id"])

    assert why["source"] == "event"
    assert why["event"]["id"] == body["id"]
    assert why["event"]["type"] == "order.refunded"
    assert why["points"] == 10
    assert why["reversed_awards"] == [{"rule_id": "base", "rule_version": 0, "points": 10}]
