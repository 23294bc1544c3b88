"""Webhooks arrive at least once and in any order: duplicates and out-of-order deliveries of
the same events must change nothing.

The same events (orders, partial refunds by lines and by amount, a cancellation, capped
reviews, shares, custom events...) go to two programs with the same rules: to one once and in
order, to the other at least once, shuffled, with duplicates, singly (with or without an
Idempotency-Key) and in batches, by hypothesis. A refund that arrives before its order is
refused with 404 `order_not_found` and sent again later, until every event is accepted. The
end states must be equal: balances, lots, ledger totals per kind, orders and their refunds,
one stored event per id; and every later delivery of an event answers its first result.

The events are chosen so that the end state does not depend on the order by design: at most
one order per rule that looks at history (no first-order rule), no cancellation of an order
that also has partial refunds (a cancellation first would refuse them with 409 for good), and
refunds of one order either all by lines or all by amount. Everything in one calendar month, so
that every lot gets the same expiry date whichever event earned it.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from itertools import cycle
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.ledger.verify import verify
from punchcard.models import Balance, Event, LedgerTransaction, Lot, Member, Order
from punchcard.programs.domain import ExpiryPolicy, Scope
from tests.conftest import Api, ProgramFactory
from tests.reliability.conftest import BUDGET

MAIN_EXAMPLES = 3  # in the main suite, per backend; the reliability run does BUDGET's


def _rule(rule_id: str, events: str, effect: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": rule_id, "events": [events], "effect": effect, **extra}


APP = ["app"]
RULES = [
    _rule("base", "order.placed", {"type": "per_currency_unit", "points": 1}),
    _rule("mugs", "order.placed", {"type": "per_line", "points": 3, "skus": ["MUG"]}),
    _rule("big", "order.placed", {"type": "fixed", "points": 25}, conditions={"min_amount": "100"}),
    _rule("app", "order.placed", {"type": "multiplier", "factor": 2}, conditions={"channels": APP}),
    _rule("review", "review.submitted", {"type": "fixed", "points": 20}, caps={"day": 30}),
    _rule("share", "social.shared", {"type": "fixed", "points": 5}),
    _rule("recycling", "recycling.dropped_off", {"type": "fixed", "points": 2}),
    _rule("signup", "member.signed_up", {"type": "fixed", "points": 10}),
    _rule("quiz", "custom.quiz_completed", {"type": "fixed", "points": 7}),
]  # fmt: skip


def _line(sku: str, quantity: int, price: str) -> dict[str, Any]:
    return {"sku": sku, "quantity": quantity, "unit_price": price}


def _order(order_id: str, total: str, *lines: dict[str, Any]) -> dict[str, Any]:
    return {"order_id": order_id, "currency": "USD", "total": total, "lines": list(lines)}


def _refund(order_id: str, amount: str | None = None, **lines: int) -> dict[str, Any]:
    if amount is not None:
        return {"order_id": order_id, "amount": amount}
    return {"order_id": order_id, "lines": [{"sku": s, "quantity": q} for s, q in lines.items()]}


SCENARIO: list[tuple[str, str, str, dict[str, Any], str]] = [
    # customer, day-hour, type, data, channel
    ("alice", "05T09", "order.placed",
     _order("A1", "120.00", _line("TSHIRT", 3, "25.00"), _line("MUG", 3, "15.00")), "app"),
    ("alice", "06T09", "order.refunded", _refund("A1", TSHIRT=1), "web"),
    ("alice", "07T09", "order.refunded", _refund("A1", MUG=2), "web"),
    ("alice", "08T09", "order.refunded", _refund("A1", TSHIRT=2, MUG=1), "web"),
    ("alice", "05T10", "order.placed", _order("A2", "50.00", _line("BOOK", 4, "12.50")), "web"),
    ("alice", "09T10", "order.refunded", _refund("A2", "10.00"), "web"),
    ("alice", "09T11", "order.refunded", _refund("A2", "7.50"), "web"),
    ("alice", "10T10", "review.submitted", {"review_id": "r1", "rating": 5}, "web"),
    ("alice", "10T11", "review.submitted", {"review_id": "r2", "rating": 4}, "web"),
    ("alice", "10T12", "review.submitted", {"review_id": "r3"}, "web"),
    ("bob", "05T11", "order.placed", _order("B1", "80.00"), "web"),
    ("bob", "06T11", "order.refunded", _refund("B1", "20.00"), "web"),
    ("bob", "07T11", "order.refunded", _refund("B1", "60.00"), "web"),
    ("bob", "05T12", "order.placed", _order("B2", "39.98", _line("CAP", 2, "19.99")), "pos"),
    ("bob", "06T12", "order.cancelled", {"order_id": "B2"}, "pos"),
    ("bob", "07T12", "social.shared", {"platform": "x", "url": "https://example.com/1"}, "app"),
    ("bob", "04T12", "member.signed_up", {}, "web"),
    ("carol", "05T13", "order.placed",
     _order("C1", "80.00", _line("TSHIRT", 2, "30.00"), _line("MUG", 1, "20.00")), "web"),
    ("carol", "06T13", "order.refunded", _refund("C1", "16.00"), "web"),
    ("carol", "07T13", "order.refunded", _refund("C1", "24.00"), "web"),
    ("carol", "08T13", "recycling.dropped_off", {"items": 3}, "pos"),
    ("carol", "08T14", "custom.quiz_completed", {"quiz": "coffee", "score": 9}, "app"),
    ("carol", "08T15", "product.viewed", {"sku": "MUG"}, "web"),
    ("carol", "08T16", "app.installed", {}, "app"),
    ("dave", "05T14", "order.placed", _order("D1", "9.99", _line("MUG", 1, "9.99")), "web"),
    ("dave", "06T14", "order.refunded", _refund("D1", MUG=1), "web"),
    ("dave", "06T15", "member.birthday", {"year": 2026}, "other"),
    ("erin", "05T15", "order.placed",
     _order("E1", "126.00", _line("TSHIRT", 5, "21.00"), _line("CAP", 3, "7.00")), "app"),
    ("erin", "06T15", "order.refunded", _refund("E1", TSHIRT=2), "web"),
    ("erin", "07T15", "order.refunded", _refund("E1", CAP=1, TSHIRT=1), "web"),
]  # fmt: skip


def scenario_events(tag: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{tag}-{i}",
            "type": event_type,
            "member": {"external_id": customer},
            "occurred_at": f"2026-01-{when}:00:00Z",
            "channel": channel,
            "data": data,
        }
        for i, (customer, when, event_type, data, channel) in enumerate(SCENARIO)
    ]


@dataclass(frozen=True)
class Plan:
    """How the events reach the second program: indexes into the events, with repeats, in
    delivery order; sizes of successive posts (1: `POST /v1/events`, more: a batch); whether
    single posts carry an Idempotency-Key."""

    sequence: list[int]
    sizes: list[int]
    with_keys: bool


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    copies = draw(st.lists(st.integers(1, 3), min_size=len(SCENARIO), max_size=len(SCENARIO)))
    deliveries = [i for i, n in enumerate(copies) for _ in range(n)]
    sequence = draw(st.permutations(deliveries))
    sizes = draw(st.lists(st.sampled_from([1, 1, 2, 3, 5]), min_size=1, max_size=8))
    return Plan(list(sequence), sizes, draw(st.booleans()))


def post(api: Api, events: list[dict[str, Any]], with_keys: bool) -> list[tuple[int, Any]]:
    """Deliver events in one call; (status, result or error body) for each."""
    headers = api.headers(Scope.STOREFRONT)
    if len(events) == 1:
        if with_keys:
            headers["Idempotency-Key"] = f"deliver-{events[0]['id']}"
        response = api.client.post("/v1/events", json=events[0], headers=headers)
        return [(response.status_code, response.json())]
    response = api.client.post("/v1/events/batch", json={"events": events}, headers=headers)
    assert response.status_code == 200, response.text
    return [
        (item["status"], item["result"] if item["status"] == 200 else {"error": item["error"]})
        for item in response.json()["items"]
    ]


def deliver(api: Api, events: list[dict[str, Any]], plan: Plan) -> None:
    """Deliver as planned, sending refused events again at the end of the queue until all are
    accepted; every delivery of an event after the first must answer the first result."""
    queue = deque(plan.sequence)
    first: dict[str, Any] = {}
    refused_in_a_row = 0
    for size in cycle(plan.sizes):
        if not queue:
            break
        chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
        answers = post(api, [events[i] for i in chunk], plan.with_keys)
        for index, (status, body) in zip(chunk, answers, strict=True):
            event_id = events[index]["id"]
            if status == 200:
                refused_in_a_row = 0
                assert first.setdefault(event_id, body) == body, (event_id, first[event_id], body)
                continue
            assert (status, body["error"]["code"]) == (404, "order_not_found"), (event_id, body)
            queue.append(index)
            refused_in_a_row += 1
            assert refused_in_a_row <= 2 * len(queue) + 2, f"no progress: {list(queue)}"
    assert len(first) == len(events)


def end_state(db: Database, program_id: int) -> dict[str, Any]:
    """Everything that must not depend on how the events arrived, by the store's names."""
    with db.reader() as s:
        balances = {
            ext: (available, pending, debt, lifetime)
            for ext, available, pending, debt, lifetime in s.execute(
                select(
                    Member.external_id,
                    Balance.available,
                    Balance.pending,
                    Balance.debt,
                    Balance.lifetime_earned,
                )
                .join(Balance, Balance.member_id == Member.id)
                .where(Member.program_id == program_id)
            )
        }
        lots: dict[str, list[tuple[int, int, datetime | None]]] = {}
        for ext, points, remaining, expires in s.execute(
            select(Member.external_id, Lot.points, Lot.remaining, Lot.expires_at)
            .join(Lot, Lot.member_id == Member.id)
            .where(Member.program_id == program_id)
        ):
            lots.setdefault(ext, []).append((points, remaining, expires))
        totals = {
            kind: int(points)
            for kind, points in s.execute(
                select(LedgerTransaction.kind, func.sum(LedgerTransaction.points))
                .where(LedgerTransaction.program_id == program_id)
                .group_by(LedgerTransaction.kind)
            )
        }
        orders = {
            order.order_id: (
                order.status,
                Decimal(order.refunded_amount),
                json.loads(order.refunded_quantities),
                [Decimal(v) for v in json.loads(order.refunded_values)],
            )
            for order in s.scalars(select(Order).where(Order.program_id == program_id))
        }
        events = s.execute(
            select(func.count(), func.count(func.distinct(Event.source_id))).where(
                Event.program_id == program_id
            )
        ).one()
        report = verify(s, program_id)
    assert report.ok, [str(v) for v in report.violations]
    return {
        "balances": balances,
        "lots": {ext: sorted(found, key=repr) for ext, found in lots.items()},
        "totals": totals,
        "orders": orders,
        "events": tuple(events),
    }


def new_api(
    client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> Api:
    program = make_program(expiry_policy=ExpiryPolicy.END_OF_MONTH, expiry_value=12)
    api = Api(client, db, program, clock())
    response = api.client.put("/v1/rules", json={"rules": RULES}, headers=api.headers())
    assert response.status_code == 200, response.text
    return api


@pytest.mark.parametrize(
    "examples",
    [
        pytest.param(MAIN_EXAMPLES, id="main"),
        pytest.param(BUDGET.redelivery_examples, id="deep", marks=pytest.mark.reliability),
    ],
)
def test_duplicate_and_out_of_order_deliveries_change_nothing(
    examples: int,
    client: TestClient,
    db: Database,
    make_program: ProgramFactory,
    clock: FixedClock,
) -> None:
    in_order = new_api(client, db, make_program, clock)
    events = scenario_events("evt")
    for event in events:
        response = in_order.client.post(
            "/v1/events", json=event, headers=in_order.headers(Scope.STOREFRONT)
        )
        assert response.status_code == 200, response.text
    expected = end_state(db, in_order.program.id)
    assert expected["events"] == (len(SCENARIO), len(SCENARIO))
    assert expected["orders"]["A1"][0] == expected["orders"]["B1"][0] == "refunded"
    assert expected["orders"]["E1"][0] == "partly_refunded"
    assert expected["balances"]["alice"][0] > 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(plan=plans())
    def shuffled(plan: Plan) -> None:
        note(f"plan: {plan}")
        api = new_api(client, db, make_program, clock)
        deliver(api, events, plan)
        assert end_state(db, api.program.id) == expected

    shuffled()


def test_the_scenario_happens_in_january_so_every_lot_expires_together() -> None:
    """Guards the scenario's own premise: lots compare equal only if their dates do."""
    moments = [datetime.fromisoformat(f"2026-01-{when}:00:00+00:00") for _, when, *_ in SCENARIO]
    assert {(m.year, m.month) for m in moments} == {(2026, 1)}
    assert all(m < datetime(2026, 1, 15, tzinfo=UTC) for m in moments)
