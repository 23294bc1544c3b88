"""A batch's answer is encoded from the fast path's results directly, not through a thousand
pydantic models: every byte must still be what `BatchOut` would have dumped."""

from __future__ import annotations

from typing import Any

from punchcard.events.schemas import BatchOut, EventResult, result_body
from tests.conftest import Api
from tests.events.test_events_api import event, line, order_data, post_batch, uid


def test_a_batch_answers_exactly_what_its_model_would_dump(api: Api) -> None:
    customer = uid("shopper")
    first = event("order.placed", order_data(line("a", 2, "10.00")), customer=customer)
    assert post_batch(api, [first]).status_code == 200
    placed = order_data(line("b", 1, "5.00"))
    events: list[dict[str, Any]] = [
        event("order.placed", order_data(line("c", 1, "12.50"), line("d", 3, "1.00"))),
        event("review.submitted", {"rating": 5}, customer=customer),  # no order fields
        first,  # a replay: the stored result
        event("order.placed", placed, customer=customer),
        event(
            "order.refunded", {"order_id": placed["order_id"], "amount": "5.00"}, customer=customer
        ),  # fmt: skip  (the general path, in its place)
        event("order.placed", {"order_id": "x", "currency": "usd", "total": "1.00"}),
        {"id": "no-type"},  # refused by the envelope's validation
    ]
    response = post_batch(api, events)
    assert response.status_code == 200, response.text
    dumped = BatchOut.model_validate_json(response.content).model_dump_json().encode()
    assert response.content == dumped
    items = response.json()["items"]
    assert [i["status"] for i in items] == [200, 200, 200, 200, 200, 422, 422]
    assert items[2]["result"] == items[2]["result"] | {"event_id": first["id"]}
    assert items[4]["result"]["reversed_awards"] is not None  # the refund's own field


def test_a_result_is_shaped_as_its_model_with_defaults_and_without_extras() -> None:
    result = {
        "event_id": "e1",
        "type": "review.submitted",
        "member_id": 7,
        "transaction_id": 3,
        "points": {"awarded": 10, "pending": 0, "reversed": 0, "note": "extra"},
        "awards": [{"rule_id": "r", "rule_version": 2, "points": 10, "reason": "x", "more": 1}],
        "dry_run": False,
        "unknown": True,
    }
    shaped = result_body(result)
    assert shaped == EventResult.model_validate(result).model_dump(mode="json")
    assert list(shaped) == list(EventResult.model_fields)
    assert shaped["order_id"] is None
    assert "unknown" not in shaped


def test_a_dry_run_batch_answers_exactly_what_its_model_would_dump(api: Api) -> None:
    events = [
        event("order.placed", order_data(line("a", 1, "9.99"))),
        event("order.placed", {"order_id": "x", "currency": "usd", "total": "1.00"}),
    ]
    response = post_batch(api, events, dry_run=True)
    assert response.status_code == 200, response.text
    dumped = BatchOut.model_validate_json(response.content).model_dump_json().encode()
    assert response.content == dumped
    assert [i["status"] for i in response.json()["items"]] == [200, 422]
