"""What a badge counts: orders not given back, and only the member's rows dated at or before
the event at hand, so a batch names the same awarding event as events sent one by one; and
points an order earns through a badge wait for the order's return window."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.badges.helpers import action, customer_id, earned, make_badge, order
from tests.conftest import START, Api
from tests.events.test_events_api import event, line, order_data, post_batch, send, uid

MINUTE = timedelta(minutes=1)


def placed(customer: str, at: Any, order_id: str | None = None) -> dict[str, Any]:
    return event("order.placed", order_data(line("sku", 1, "5.00"), order_id=order_id),
                 customer=customer, at=at)  # fmt: skip


def test_cancelled_and_fully_refunded_orders_do_not_count(api: Api) -> None:
    two = make_badge(api, {"kind": "order_count", "count": 2})
    customer = uid("cust")
    cancelled, refunded, partly = uid("order"), uid("order"), uid("order")
    send(api, placed(customer, START, cancelled))
    send(api, event("order.cancelled", {"order_id": cancelled}, customer=customer,
                    at=START + MINUTE))  # fmt: skip
    send(api, placed(customer, START + 2 * MINUTE, refunded))
    send(api, event("order.refunded", {"order_id": refunded, "amount": "5.00"},
                    customer=customer, at=START + 3 * MINUTE))  # fmt: skip
    send(api, placed(customer, START + 4 * MINUTE, partly))
    member = customer_id(api, customer)
    assert two["id"] not in earned(api, member)

    send(api, event("order.refunded", {"order_id": partly, "amount": "1.00"},
                    customer=customer, at=START + 5 * MINUTE))  # fmt: skip
    last = send(api, placed(customer, START + 6 * MINUTE))  # a partly refunded order counts
    assert earned(api, member)[two["id"]]["source_id"] == last["event_id"]


def test_a_batch_names_the_event_that_reached_the_count(api: Api) -> None:
    two = make_badge(api, {"kind": "order_count", "count": 2})
    drops = make_badge(
        api, {"kind": "event_count", "event_type": "recycling.dropped_off", "count": 2}
    )
    items = make_badge(api, {"kind": "event_count", "event_type": "recycling.dropped_off",
                             "count": 5, "sum": "items"})  # fmt: skip
    customer = uid("cust")

    def drop(n: int, at: Any) -> dict[str, Any]:
        return event("recycling.dropped_off", {"items": n}, customer=customer, at=at)

    # sent newest first: the badges go to the events that reached the counts in time order
    events = [
        placed(customer, START + 3 * MINUTE),
        drop(3, START + 2 * MINUTE),
        placed(customer, START + MINUTE),
        drop(3, START),
    ]
    assert post_batch(api, events).status_code == 200
    got = earned(api, customer_id(api, customer))
    assert got[two["id"]]["source_id"] == events[0]["id"]
    assert got[drops["id"]]["source_id"] == events[1]["id"]
    assert got[items["id"]]["source_id"] == events[1]["id"]


def test_events_at_the_same_moment_count_in_the_order_they_came(api: Api) -> None:
    two = make_badge(api, {"kind": "order_count", "count": 2})
    customer = uid("cust")
    events = [placed(customer, START) for _ in range(3)]
    assert post_batch(api, events).status_code == 200
    assert earned(api, customer_id(api, customer))[two["id"]]["source_id"] == events[1]["id"]


def test_one_by_one_names_the_same_event_as_the_batch(api: Api) -> None:
    two = make_badge(api, {"kind": "order_count", "count": 2})
    customer = uid("cust")
    events = [placed(customer, START), placed(customer, START), placed(customer, START)]
    for body in events:
        send(api, body)
    assert earned(api, customer_id(api, customer))[two["id"]]["source_id"] == events[1]["id"]


def test_badge_points_earned_by_an_order_wait_for_its_return_window(api: Api) -> None:
    patched = api.client.patch("/v1/program", json={"pending_days": 14}, headers=api.headers())
    assert patched.status_code == 200, patched.text
    make_badge(api, {"kind": "order_count", "count": 1}, points=50)
    make_badge(api, {"kind": "event_count", "event_type": "app.installed", "count": 1}, points=7)
    customer = uid("cust")
    order(api, customer, "10.00")
    action(api, customer, "app.installed", at=START + MINUTE)
    balance = api.client.get(
        f"/v1/members/{customer_id(api, customer)}/balance", headers=api.headers()
    ).json()
    assert (balance["available"], balance["pending"]) == (7, 60)
