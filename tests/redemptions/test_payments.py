"""Pay with points: a program rate turns points into money off one order, as a code."""

from __future__ import annotations

from typing import Any

import pytest

from punchcard.db import Database
from punchcard.programs.domain import Scope
from tests.conftest import Api
from tests.redemptions.helpers import available, error, member_with, post, redemption_count


def set_rate(api: Api, rate: int | None, max_percent: int = 100) -> None:
    response = api.client.patch(
        "/v1/program",
        json={"points_payment_rate": rate, "points_payment_max_percent": max_percent},
        headers=api.headers(Scope.ADMIN),
    )
    assert response.status_code == 200, response.text


def pay(api: Api, member: int, **body: Any) -> Any:
    return post(api, f"/v1/members/{member}/points-payments", body)


def test_points_buy_an_amount_rounded_down_to_the_cent(api: Api) -> None:
    set_rate(api, 100)  # 100 points = 1.00
    member = member_with(api, 1000)

    response = pay(api, member, order_total="50.00", points=257)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["type"] == "points_payment"
    assert body["reward_id"] is None
    assert body["value"] == "2.57"
    assert body["points"] == 257
    assert body["status"] == "issued"
    assert body["code"]
    assert body["details"]["capped"] is False
    assert available(api, member) == 743
    check = post(api, "/v1/codes/validate", {"code": body["code"], "order_total": "50.00"})
    assert check.json()["discount"] == {"amount": "2.57"}
    assert check.json()["type"] == "points_payment"
    used = post(api, "/v1/codes/redeem", {"code": body["code"], "order_id": "o-9"})
    assert used.status_code == 200


def test_a_retry_with_the_same_key_returns_the_same_code_and_charges_once(api: Api) -> None:
    set_rate(api, 100)
    member = member_with(api, 1000)
    path = f"/v1/members/{member}/points-payments"
    first = post(api, path, {"order_total": "10.00", "points": 300}, key="cart-1")
    again = post(api, path, {"order_total": "10.00", "points": 300}, key="cart-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert available(api, member) == 700


def test_only_the_points_the_amount_costs_are_charged(api: Api) -> None:
    set_rate(api, 1000)  # 1000 points = 1.00: 1009 points still buy 1.00 only
    member = member_with(api, 5000)
    body = pay(api, member, order_total="10.00", points=1009).json()
    assert (body["value"], body["points"]) == ("1.00", 1000)
    assert available(api, member) == 4000


def test_an_amount_is_never_exceeded(api: Api) -> None:
    set_rate(api, 1)  # 1 point = 1.00: 1.50 asked buys 1.00 for 1 point
    member = member_with(api, 10)
    body = pay(api, member, order_total="10.00", amount="1.50").json()
    assert (body["value"], body["points"]) == ("1.00", 1)
    assert body["details"]["requested"] == {"amount": "1.50"}


def test_the_order_share_caps_the_amount_and_says_so(api: Api) -> None:
    set_rate(api, 100, max_percent=20)
    member = member_with(api, 10_000)
    body = pay(api, member, order_total="30.00", points=5000).json()
    assert (body["value"], body["points"]) == ("6.00", 600)
    assert body["details"]["capped"] is True
    assert body["details"]["max_amount"] == "6.00"
    assert available(api, member) == 9400


def test_the_order_share_holds_at_checkout_on_a_smaller_order(api: Api) -> None:
    """A code quoted against a large basket cannot pay more than the share of the order it
    finally meets: 20% of 10.00 is 2.00, however much the code is worth."""
    set_rate(api, 100, max_percent=20)
    member = member_with(api, 10_000)
    code = pay(api, member, order_total="30.00", points=600).json()["code"]

    small = post(api, "/v1/codes/validate", {"code": code, "order_total": "10.00"}).json()
    large = post(api, "/v1/codes/validate", {"code": code, "order_total": "100.00"}).json()
    unknown = post(api, "/v1/codes/validate", {"code": code}).json()

    assert small["discount"] == {"amount": "2.00"}
    assert large["discount"] == {"amount": "6.00"}
    assert unknown["discount"] == {"amount": "6.00"}


def test_refused_when_the_program_does_not_offer_it(api: Api, db: Database) -> None:
    set_rate(api, None)
    member = member_with(api, 1000)
    response = pay(api, member, order_total="10.00", points=100)
    assert (response.status_code, error(response)) == (409, "points_payment_off")
    assert available(api, member) == 1000


def test_too_few_points_and_too_little_money(api: Api, db: Database) -> None:
    set_rate(api, 1000)
    member = member_with(api, 1000)
    for body in ({"points": 9}, {"amount": "0.001"}, {"amount": "0.00"}):
        response = pay(api, member, order_total="10.00", **body)
        assert response.status_code == 422, response.text
    response = pay(api, member, order_total="10.00", points=5)
    assert error(response) == "points_payment_too_small"
    assert redemption_count(db, api.program) == 0


def test_insufficient_points_spends_nothing(api: Api, db: Database) -> None:
    set_rate(api, 100)
    member = member_with(api, 100)
    response = pay(api, member, order_total="10.00", points=500)
    assert (response.status_code, error(response)) == (409, "insufficient_points")
    assert available(api, member) == 100
    assert redemption_count(db, api.program) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"order_total": "10.00"},
        {"order_total": "10.00", "points": 100, "amount": "1.00"},
        {"points": 100},
        {"order_total": "0", "points": 100},
        {"order_total": "10.00", "points": 0},
        {"order_total": "10.00", "points": "100"},
    ],
)
def test_bad_input_is_a_422_with_a_code(api: Api, body: dict[str, Any]) -> None:
    set_rate(api, 100)
    member = member_with(api, 1000)
    response = pay(api, member, **body)
    assert response.status_code == 422, response.text
    assert error(response)


def test_a_points_payment_can_be_cancelled_for_the_points_back(api: Api) -> None:
    set_rate(api, 100)
    member = member_with(api, 1000)
    body = pay(api, member, order_total="10.00", points=300).json()
    response = post(api, f"/v1/members/{member}/redemptions/{body['id']}/cancel")
    assert response.status_code == 200, response.text
    assert available(api, member) == 1000
    path = f"/v1/members/{member}/transactions/{body['transaction_id']}/reversals"
    assert error(post(api, path, {"reason": "x"}, scope=Scope.ADMIN)) == "use_redemption_cancel"
