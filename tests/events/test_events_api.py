"""/v1/events and /v1/events/batch: event data schemas, the default rule set, dedupe on the
source's event id, auto-enrolment, dry runs, batches, pending points and explanations.

The helpers at the top are shared by the other modules of this package."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.ledger.tasks import run_ledger_jobs
from punchcard.ledger.verify import verify
from punchcard.programs.domain import ProgramSettings, Scope
from tests.conftest import START, Api, ProgramFactory

DAY = timedelta(days=1)

# --- helpers (shared with test_refunds and test_rules_api) ---------------------------------


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def iso(moment: datetime | str) -> str:
    return moment if isinstance(moment, str) else moment.isoformat().replace("+00:00", "Z")


def line(sku: str, quantity: int, unit_price: str, category: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"sku": sku, "quantity": quantity, "unit_price": unit_price}
    if category is not None:
        body["category"] = category
    return body


def order_data(
    *lines: dict[str, Any], total: str | None = None, order_id: str | None = None
) -> dict[str, Any]:
    if total is None:
        amount = sum((Decimal(ln["unit_price"]) * ln["quantity"] for ln in lines), Decimal(0))
        total = f"{amount:.2f}"
    return {
        "order_id": order_id or uid("order"),
        "currency": "USD",
        "total": total,
        "lines": list(lines),
    }


def event(
    event_type: str,
    data: dict[str, Any] | None = None,
    *,
    customer: str | None = None,
    member: dict[str, Any] | None = None,
    event_id: str | None = None,
    at: datetime | str = START,
    channel: str | None = None,
    store_id: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": event_id or uid("evt"),
        "type": event_type,
        "member": member if member is not None else {"external_id": customer or uid("cust")},
        "occurred_at": iso(at),
        "data": data if data is not None else {},
    }
    if channel is not None:
        body["channel"] = channel
    if store_id is not None:
        body["store_id"] = store_id
    return body


def post_event(
    api: Api, body: dict[str, Any], *, dry_run: bool = False, scope: Scope = Scope.STOREFRONT
) -> Any:
    params = {"dry_run": "true"} if dry_run else {}
    return api.client.post("/v1/events", json=body, params=params, headers=api.headers(scope))


def send(api: Api, body: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
    """Post an event that must be accepted; its result."""
    response = post_event(api, body, dry_run=dry_run)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def place(
    api: Api,
    customer: str,
    *lines: dict[str, Any],
    total: str | None = None,
    order_id: str | None = None,
    **envelope: Any,
) -> dict[str, Any]:
    """Place an order for the member with this external id; the event's result."""
    data = order_data(*lines, total=total, order_id=order_id)
    return send(api, event("order.placed", data, customer=customer, **envelope))


def post_batch(api: Api, events: list[dict[str, Any]], *, dry_run: bool = False) -> Any:
    params = {"dry_run": "true"} if dry_run else {}
    return api.client.post(
        "/v1/events/batch",
        json={"events": events},
        params=params,
        headers=api.headers(Scope.STOREFRONT),
    )


def enrol(api: Api, external_id: str | None = None) -> dict[str, Any]:
    response = api.client.post(
        "/v1/members", json={"external_id": external_id or uid("cust")}, headers=api.headers()
    )
    assert response.status_code == 201, response.text
    member: dict[str, Any] = response.json()
    return member


def find_member(api: Api, external_id: str) -> list[dict[str, Any]]:
    response = api.client.get(
        "/v1/members", params={"external_id": external_id}, headers=api.headers()
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def member_id_of(api: Api, external_id: str) -> int:
    found = find_member(api, external_id)
    assert len(found) == 1, found
    member_id: int = found[0]["id"]
    return member_id


def balance(api: Api, member_id: int) -> dict[str, Any]:
    response = api.client.get(
        f"/v1/members/{member_id}/balance", headers=api.headers(Scope.ANALYST)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def transactions(api: Api, member_id: int) -> list[dict[str, Any]]:
    response = api.client.get(
        f"/v1/members/{member_id}/transactions", params={"limit": 200}, headers=api.headers()
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def explain(api: Api, member_id: int, tx_id: int) -> dict[str, Any]:
    response = api.client.get(
        f"/v1/members/{member_id}/transactions/{tx_id}/explain", headers=api.headers()
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def error_paths(response: Any) -> list[str]:
    return [e["path"] for e in error(response)["details"]["errors"]]


def rule(
    rule_id: str, effect: dict[str, Any], *, events: list[str] | None = None, **fields: Any
) -> dict[str, Any]:
    return {"id": rule_id, "events": events or ["order.placed"], "effect": effect, **fields}


def per_unit(points: int = 1, **fields: Any) -> dict[str, Any]:
    return {"type": "per_currency_unit", "points": points, **fields}


def per_line(points: int, **fields: Any) -> dict[str, Any]:
    return {"type": "per_line", "points": points, **fields}


def fixed(points: int) -> dict[str, Any]:
    return {"type": "fixed", "points": points}


def multiplier(factor: str | int) -> dict[str, Any]:
    return {"type": "multiplier", "factor": factor}


BASE = rule("base", per_unit(1))


def put_rules(api: Api, *rules: dict[str, Any]) -> int:
    response = api.client.put("/v1/rules", json={"rules": list(rules)}, headers=api.headers())
    assert response.status_code == 200, response.text
    version: int = response.json()["version"]
    return version


def api_for(client: TestClient, db: Database, program: ProgramSettings, clock: FixedClock) -> Api:
    return Api(client, db, program, clock())


def assert_ledger_clean(db: Database, program_id: int) -> None:
    with db.reader() as session:
        report = verify(session, program_id)
    assert report.ok, [str(v) for v in report.violations]


# --- every event type: valid data accepted, bad data refused with its path ----------------

ORDER = "__ORDER__"
VALID: dict[str, dict[str, Any]] = {
    "order.placed": {
        "order_id": ORDER,
        "currency": "USD",
        "total": "12.99",
        "lines": [{"sku": "a", "category": "shoes", "quantity": 1, "unit_price": "12.99"}],
    },
    "order.refunded": {"order_id": ORDER, "lines": [{"sku": "a", "quantity": 1}]},
    "order.cancelled": {"order_id": ORDER},
    "review.submitted": {"review_id": "r1", "sku": "a", "rating": 5},
    "social.shared": {"platform": "instagram", "url": "https://example.com/p/1"},
    "recycling.dropped_off": {"items": 3, "store_id": "s1"},
    "member.signed_up": {},
    "member.birthday": {"year": 2026},
    "survey.completed": {"survey_id": "nps-2026"},
    "product.viewed": {"sku": "a", "category": "shoes"},
    "app.installed": {},
    "custom.something": {"anything": [1, 2], "nested": {"goes": True}},
}


def _fill(data: dict[str, Any], order_id: str) -> dict[str, Any]:
    return {k: (order_id if v == ORDER else v) for k, v in data.items()}


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_every_event_type_is_accepted_with_valid_data(api: Api, event_type: str) -> None:
    customer = uid("cust")
    order_id = uid("order")
    if event_type in ("order.refunded", "order.cancelled"):
        place(api, customer, line("a", 1, "12.99"), order_id=order_id)
    body = event(event_type, _fill(VALID[event_type], order_id), customer=customer)

    result = send(api, body)

    assert result["event_id"] == body["id"]
    assert result["type"] == event_type
    assert result["member_id"] == member_id_of(api, customer)
    assert result["dry_run"] is False
    if event_type.startswith("order."):
        assert result["order_id"] == order_id


BAD: list[tuple[str, dict[str, Any], str]] = [
    (
        "order.placed",
        {**VALID["order.placed"], "lines": [{"sku": "a", "quantity": 0, "unit_price": "1"}]},
        "data.lines[0].quantity",
    ),
    (
        "order.placed",
        {
            **VALID["order.placed"],
            "lines": [
                {"sku": "a", "quantity": 1, "unit_price": "1"},
                {"sku": "b", "quantity": 1, "unit_price": "-1"},
            ],
        },
        "data.lines[1].unit_price",
    ),
    ("order.placed", {**VALID["order.placed"], "currency": "usd"}, "data.currency"),
    ("order.placed", {**VALID["order.placed"], "total": "-1.00"}, "data.total"),
    ("order.placed", {**VALID["order.placed"], "total": "1.001"}, "data.total"),
    ("order.placed", {**VALID["order.placed"], "coupon": "X"}, "data.coupon"),
    ("order.placed", {"currency": "USD", "total": "1.00"}, "data.order_id"),
    ("order.refunded", {"order_id": "o1"}, "data"),
    ("order.refunded", {"order_id": "o1", "amount": "1.00", "lines": []}, "data.lines"),
    ("order.refunded", {"order_id": "o1", "amount": "0"}, "data"),
    (
        "order.refunded",
        {"order_id": "o1", "lines": [{"sku": "a", "quantity": 0}]},
        "data.lines[0].quantity",
    ),
    ("order.cancelled", {}, "data.order_id"),
    ("review.submitted", {"rating": 6}, "data.rating"),
    ("review.submitted", {"rating": "5"}, "data.rating"),
    ("social.shared", {"platform": "x", "url": "not a url"}, "data.url"),
    ("social.shared", {"url": "https://example.com"}, "data.platform"),
    ("recycling.dropped_off", {"items": 0}, "data.items"),
    ("member.signed_up", {"plan": "gold"}, "data.plan"),
    ("member.birthday", {"year": 1800}, "data.year"),
    ("survey.completed", {}, "data.survey_id"),
    ("product.viewed", {"sku": "   "}, "data.sku"),
    ("app.installed", {"store": "play"}, "data.store"),
]


@pytest.mark.parametrize(("event_type", "data", "path"), BAD, ids=[f"{t}:{p}" for t, _, p in BAD])
def test_bad_event_data_is_refused_with_the_path_of_each_problem(
    api: Api, event_type: str, data: dict[str, Any], path: str
) -> None:
    customer = uid("cust")

    response = post_event(api, event(event_type, data, customer=customer))

    assert response.status_code == 422, response.text
    assert error(response)["code"] == "invalid_event_data"
    assert path in error_paths(response)
    assert find_member(api, customer) == []  # nothing written, not even the enrolment


def test_every_problem_of_the_data_is_listed(api: Api) -> None:
    data = {
        "order_id": "o1",
        "currency": "US",
        "total": "1.00",
        "lines": [{"sku": "a", "quantity": 1, "unit_price": "1"}, {"sku": "", "quantity": 1.5}],
    }

    response = post_event(api, event("order.placed", data))

    assert response.status_code == 422, response.text
    assert set(error_paths(response)) >= {
        "data.currency",
        "data.lines[1].sku",
        "data.lines[1].quantity",
        "data.lines[1].unit_price",
    }


@pytest.mark.parametrize(
    "event_type", ["order.shipped", "reviews.submitted", "custom.Bad-Name", "custom.", "custom"]
)
def test_an_unknown_event_type_is_refused(api: Api, event_type: str) -> None:
    customer = uid("cust")

    response = post_event(api, event(event_type, {}, customer=customer))

    assert response.status_code == 422, response.text
    assert error(response)["code"] == "unknown_event_type"
    assert find_member(api, customer) == []


def test_a_bad_envelope_is_refused_before_anything_is_written(api: Api) -> None:
    customer = uid("cust")
    body = event("review.submitted", {}, customer=customer)
    body["occurred_at"] = "2026-01-15T12:00:00"  # no time zone

    response = post_event(api, body)

    assert response.status_code == 422, response.text
    assert find_member(api, customer) == []


def test_events_need_a_write_scope(api: Api) -> None:
    response = post_event(api, event("review.submitted"), scope=Scope.ANALYST)

    assert response.status_code == 403, response.text
    assert error(response)["code"] == "insufficient_scope"


# --- the default rule set --------------------------------------------------------------------


def test_default_rules_earn_one_point_per_whole_currency_unit_of_an_order(api: Api) -> None:
    customer = uid("cust")

    result = place(api, customer, line("a", 1, "12.99"))

    assert result["points"] == {"awarded": 12, "pending": 0, "reversed": 0}
    assert [(a["rule_id"], a["rule_version"], a["points"]) for a in result["awards"]] == [
        ("base", 0, 12)
    ]
    assert result["order_status"] == "placed"
    member = member_id_of(api, customer)
    assert balance(api, member)["available"] == 12
    [tx] = transactions(api, member)
    assert tx["id"] == result["transaction_id"]
    assert (tx["kind"], tx["points"]) == ("earn", 12)


def test_default_rules_use_the_order_total_not_the_lines(api: Api) -> None:
    customer = uid("cust")

    result = place(api, customer, line("a", 2, "10.00"), total="25.75")  # shipping on top

    assert result["points"]["awarded"] == 25


@pytest.mark.parametrize("event_type", sorted(t for t in VALID if not t.startswith("order.")))
def test_default_rules_give_nothing_for_other_events(api: Api, event_type: str) -> None:
    customer = uid("cust")

    result = send(api, event(event_type, VALID[event_type], customer=customer))

    assert result["points"] == {"awarded": 0, "pending": 0, "reversed": 0}
    assert result["awards"] == []
    assert result["transaction_id"] is None
    member = member_id_of(api, customer)
    assert transactions(api, member) == []
    assert balance(api, member)["available"] == 0


# --- dedupe on the source's event id -----------------------------------------------------------


def test_the_same_event_id_twice_gives_the_same_result_and_earns_once(api: Api) -> None:
    customer = uid("cust")
    body = event("order.placed", order_data(line("a", 1, "12.99")), customer=customer)

    first = send(api, body)
    second = send(api, body)

    assert second == first
    member = member_id_of(api, customer)
    assert balance(api, member)["available"] == 12
    assert len(transactions(api, member)) == 1


def test_a_replayed_event_id_with_other_data_still_answers_the_first_result(api: Api) -> None:
    customer = uid("cust")
    body = event("order.placed", order_data(line("a", 1, "12.99")), customer=customer)
    first = send(api, body)
    body["data"] = order_data(line("a", 1, "99.00"))

    second = send(api, body)

    assert second == first
    member = member_id_of(api, customer)
    assert balance(api, member)["available"] == 12
    assert len(transactions(api, member)) == 1


def test_a_replayed_non_order_event_earns_once(api: Api) -> None:
    put_rules(api, rule("review", fixed(20), events=["review.submitted"]))
    customer = uid("cust")
    body = event("review.submitted", {"rating": 4}, customer=customer)

    first = send(api, body)
    second = send(api, body)

    assert first["points"]["awarded"] == 20
    assert second == first
    member = member_id_of(api, customer)
    assert balance(api, member)["available"] == 20
    assert len(transactions(api, member)) == 1


def test_another_event_id_for_an_existing_order_is_a_conflict(api: Api) -> None:
    customer = uid("cust")
    data = order_data(line("a", 1, "12.99"))
    send(api, event("order.placed", data, customer=customer))

    response = post_event(api, event("order.placed", data, customer=customer))

    assert response.status_code == 409, response.text
    assert error(response)["code"] == "order_exists"
    member = member_id_of(api, customer)
    assert balance(api, member)["available"] == 12
    assert len(transactions(api, member)) == 1


def test_event_ids_and_order_ids_belong_to_one_program(
    api: Api, client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    other = api_for(client, db, make_program(), clock)
    body = event("order.placed", order_data(line("a", 1, "12.99")))

    mine = send(api, body)
    theirs = send(other, body)

    assert mine["points"]["awarded"] == theirs["points"]["awarded"] == 12
    assert mine["member_id"] != theirs["member_id"]


def test_an_idempotency_key_replays_the_response_and_refuses_another_payload(api: Api) -> None:
    customer = uid("cust")
    body = event("order.placed", order_data(line("a", 1, "12.99")), customer=customer)
    headers = api.headers(Scope.STOREFRONT, **{"Idempotency-Key": uid("key")})

    first = api.client.post("/v1/events", json=body, headers=headers)
    again = api.client.post("/v1/events", json=body, headers=headers)
    other = api.client.post(
        "/v1/events", json={**body, "id": uid("evt"), "data": order_data()}, headers=headers
    )

    assert first.status_code == again.status_code == 200, again.text
    assert again.content == first.content
    assert other.status_code == 409, other.text
    assert error(other)["code"] == "idempotency_conflict"
    assert balance(api, member_id_of(api, customer))["available"] == 12


# --- finding or enrolling the member -----------------------------------------------------------


def test_an_unknown_external_id_is_enrolled(api: Api) -> None:
    customer = uid("cust")

    result = send(api, event("review.submitted", {}, customer=customer, channel="app"))

    found = find_member(api, customer)
    assert [m["id"] for m in found] == [result["member_id"]]
    assert found[0]["channel"] == "app"


def test_without_auto_enrolment_an_unknown_member_is_not_found(
    client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    api = api_for(client, db, make_program(auto_enrol=False), clock)
    customer = uid("cust")

    response = post_event(
        api, event("order.placed", order_data(line("a", 1, "5")), customer=customer)
    )

    assert response.status_code == 404, response.text
    assert error(response)["code"] == "member_not_found"
    assert find_member(api, customer) == []


def test_without_auto_enrolment_a_known_member_earns(
    client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    api = api_for(client, db, make_program(auto_enrol=False), clock)
    member = enrol(api)

    result = place(api, member["external_id"], line("a", 1, "7.50"))

    assert result["member_id"] == member["id"]
    assert balance(api, member["id"])["available"] == 7


def test_the_member_can_be_named_by_card_number_or_by_id(api: Api) -> None:
    member = enrol(api)

    by_card = send(
        api,
        event(
            "order.placed",
            order_data(line("a", 1, "10.00")),
            member={"card_number": member["card_number"]},
        ),
    )
    by_id = send(
        api, event("order.placed", order_data(line("a", 1, "5.00")), member={"id": member["id"]})
    )

    assert by_card["member_id"] == by_id["member_id"] == member["id"]
    assert balance(api, member["id"])["available"] == 15


@pytest.mark.parametrize(
    "ref", [{"card_number": "4000000000000002"}, {"id": 987654321}], ids=["card", "id"]
)
def test_an_unknown_card_number_or_id_is_not_found_even_with_auto_enrolment(
    api: Api, ref: dict[str, Any]
) -> None:
    response = post_event(api, event("review.submitted", {}, member=ref))

    assert response.status_code == 404, response.text
    assert error(response)["code"] == "member_not_found"


def test_a_member_of_another_program_is_not_found(
    api: Api, client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    other = api_for(client, db, make_program(), clock)
    theirs = enrol(other)

    response = post_event(api, event("review.submitted", {}, member={"id": theirs["id"]}))

    assert response.status_code == 404, response.text
    assert error(response)["code"] == "member_not_found"


@pytest.mark.parametrize(
    "ref",
    [{}, {"external_id": "a", "id": 1}, {"external_id": ""}],
    ids=["none", "two", "empty"],
)
def test_the_member_reference_needs_exactly_one_identifier(api: Api, ref: dict[str, Any]) -> None:
    response = post_event(api, event("review.submitted", {}, member=ref))

    assert response.status_code == 422, response.text


# --- dry runs ----------------------------------------------------------------------------------


def test_a_dry_run_answers_the_result_and_writes_nothing(api: Api) -> None:
    customer = uid("cust")
    body = event("order.placed", order_data(line("a", 1, "12.99")), customer=customer)

    dry = send(api, body, dry_run=True)

    assert dry["dry_run"] is True
    assert dry["points"] == {"awarded": 12, "pending": 0, "reversed": 0}
    assert [(a["rule_id"], a["points"]) for a in dry["awards"]] == [("base", 12)]
    assert dry["transaction_id"] is None
    assert find_member(api, customer) == []  # not even enrolled

    real = send(api, body)  # same event id, same order id: neither was stored

    assert real["dry_run"] is False
    assert real["points"]["awarded"] == 12
    assert real["transaction_id"] is not None
    member = member_id_of(api, customer)
    assert balance(api, member)["available"] == 12
    assert len(transactions(api, member)) == 1


def test_a_dry_run_for_a_known_member_leaves_the_ledger_alone(api: Api) -> None:
    member = enrol(api)
    body = event("order.placed", order_data(line("a", 2, "10.00")), member={"id": member["id"]})

    dry = send(api, body, dry_run=True)

    assert dry["member_id"] == member["id"]
    assert dry["points"]["awarded"] == 20
    assert transactions(api, member["id"]) == []
    assert balance(api, member["id"])["available"] == 0
    assert send(api, body)["points"]["awarded"] == 20
    assert balance(api, member["id"])["available"] == 20


def test_a_dry_run_spends_no_campaign_budget_and_no_cap(api: Api) -> None:
    put_rules(
        api,
        rule("promo", fixed(100), events=["review.submitted"], budget=100, caps={"day": 100}),
    )
    customer = uid("cust")

    dry_runs = [
        send(api, event("review.submitted", {}, customer=customer), dry_run=True) for _ in range(3)
    ]
    real = send(api, event("review.submitted", {}, customer=customer))

    assert [d["points"]["awarded"] for d in dry_runs] == [100, 100, 100]
    assert real["points"]["awarded"] == 100


def test_a_dry_run_still_checks_the_data(api: Api) -> None:
    response = post_event(api, event("review.submitted", {"rating": 0}), dry_run=True)

    assert response.status_code == 422, response.text
    assert error(response)["code"] == "invalid_event_data"


def test_a_shared_url_the_url_parser_refuses_is_bad_event_data(api: Api) -> None:
    data = {"platform": "web", "url": "https://[shop.example/cd-1"}
    response = post_event(api, event("social.shared", data))

    assert response.status_code == 422, response.text
    assert error(response)["code"] == "invalid_event_data"


# --- batches -----------------------------------------------------------------------------------


def test_a_batch_applies_the_good_events_and_reports_each_bad_one(
    client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    api = api_for(client, db, make_program(auto_enrol=False), clock)
    member = enrol(api)
    ref = {"id": member["id"]}
    no_id = event("review.submitted", member=ref)
    del no_id["id"]
    stranger = uid("cust")
    events = [
        event("order.placed", order_data(line("a", 1, "10.00")), member=ref),
        no_id,
        event("order.placed", {"order_id": "x", "currency": "USD", "total": "-1"}, member=ref),
        event("order.placed", order_data(line("a", 1, "50.00")), customer=stranger),
        event("nonsense.happened", member=ref),
        event("order.placed", order_data(line("b", 1, "5.00")), member=ref),
    ]

    response = post_batch(api, events)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (2, 4)
    items = body["items"]
    assert [i["index"] for i in items] == list(range(6))
    assert [i["status"] for i in items] == [200, 422, 422, 404, 422, 200]
    assert [i["error"]["code"] if i["error"] else None for i in items] == [
        None,
        "missing_field",
        "invalid_event_data",
        "member_not_found",
        "unknown_event_type",
        None,
    ]
    assert [i["result"]["points"]["awarded"] for i in (items[0], items[5])] == [10, 5]
    assert all(i["result"] is None for i in items[1:5])
    assert "data.total" in [e["path"] for e in items[2]["error"]["details"]["errors"]]
    assert balance(api, member["id"])["available"] == 15
    assert len(transactions(api, member["id"])) == 2
    assert find_member(api, stranger) == []


def test_a_batch_enrols_dedupes_and_refuses_order_twins_item_by_item(api: Api) -> None:
    customer = uid("cust")
    first = event("order.placed", order_data(line("a", 1, "10.00")), customer=customer)
    twin = event("order.placed", first["data"], customer=customer)  # same order, new event id
    review = event("review.submitted", {}, customer=customer)

    response = post_batch(api, [first, first, twin, review])

    assert response.status_code == 200, response.text
    body = response.json()
    items = body["items"]
    assert [i["status"] for i in items] == [200, 200, 409, 200]
    assert items[1]["result"] == items[0]["result"]
    assert items[2]["error"]["code"] == "order_exists"
    assert (body["accepted"], body["rejected"]) == (3, 1)
    member = member_id_of(api, customer)
    assert balance(api, member)["available"] == 10
    assert len(transactions(api, member)) == 1
    # each item's result is the one a single post of it answers
    assert send(api, first) == items[0]["result"]


def test_events_of_one_batch_see_each_other_for_caps_budgets_and_first_orders(api: Api) -> None:
    put_rules(
        api,
        rule("review", fixed(20), events=["review.submitted"], caps={"day": 40}),
        rule("launch", fixed(30), events=["app.installed"], budget=50),
        rule("welcome", fixed(100), conditions={"first_order": True}),
    )
    customer = uid("cust")
    events = [
        *[event("review.submitted", customer=customer) for _ in range(3)],
        *[event("app.installed", customer=uid("cust")) for _ in range(3)],
        event("order.placed", order_data(line("a", 1, "1")), customer=customer, at=START - DAY),
        event("order.placed", order_data(line("a", 1, "1")), customer=customer),
    ]

    response = post_batch(api, events)

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["result"]["points"]["awarded"] for i in items] == [20, 20, 0, 30, 20, 0, 100, 0]


def test_a_dry_run_batch_writes_nothing(api: Api) -> None:
    customer = uid("cust")
    events = [event("order.placed", order_data(line("a", 1, "10.00")), customer=customer)]

    response = post_batch(api, events, dry_run=True)

    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert item["result"]["dry_run"] is True
    assert item["result"]["points"]["awarded"] == 10
    assert find_member(api, customer) == []


def test_a_batch_takes_up_to_1000_events(api: Api) -> None:
    member = enrol(api)
    ref = {"id": member["id"]}
    events: list[dict[str, Any]] = [{"type": "review.submitted"} for _ in range(999)]  # no id
    events.append(event("order.placed", order_data(line("a", 1, "10.00")), member=ref))

    response = post_batch(api, events)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 999)
    assert len(body["items"]) == 1000
    assert body["items"][999]["status"] == 200
    assert balance(api, member["id"])["available"] == 10


def test_a_batch_of_more_than_1000_events_is_refused_whole(api: Api) -> None:
    customer = uid("cust")
    events = [event("review.submitted", {}, customer=customer) for _ in range(1001)]

    response = post_batch(api, events)

    assert response.status_code == 422, response.text
    assert find_member(api, customer) == []


def test_an_empty_batch_is_refused(api: Api) -> None:
    response = post_batch(api, [])

    assert response.status_code == 422, response.text


# --- pending points (return window) ------------------------------------------------------------


def test_order_points_wait_for_the_return_window_then_jobs_release_them(
    client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    program = make_program(pending_days=14)
    api = api_for(client, db, program, clock)
    customer = uid("cust")

    result = place(api, customer, line("a", 1, "12.99"))

    assert result["points"] == {"awarded": 0, "pending": 12, "reversed": 0}
    member = member_id_of(api, customer)
    assert (balance(api, member)["available"], balance(api, member)["pending"]) == (0, 12)

    run_ledger_jobs(db, now=START + 14 * DAY - timedelta(seconds=1))
    assert (balance(api, member)["available"], balance(api, member)["pending"]) == (0, 12)

    run_ledger_jobs(db, now=START + 14 * DAY)
    clock.set(START + 14 * DAY)
    after = balance(api, member)
    assert (after["available"], after["pending"]) == (12, 0)
    assert after["lifetime_earned"] == 12
    assert_ledger_clean(db, program.id)


def test_non_order_events_earn_at_once_even_with_a_return_window(
    client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    api = api_for(client, db, make_program(pending_days=14), clock)
    put_rules(api, rule("review", fixed(20), events=["review.submitted"]))
    customer = uid("cust")

    result = send(api, event("review.submitted", {}, customer=customer))

    assert result["points"] == {"awarded": 20, "pending": 0, "reversed": 0}
    member = member_id_of(api, customer)
    assert (balance(api, member)["available"], balance(api, member)["pending"]) == (20, 0)


# --- explain -----------------------------------------------------------------------------------


def test_explain_an_order_earn(api: Api) -> None:
    version = put_rules(
        api,
        BASE,
        rule("app-only", fixed(5), conditions={"channels": ["app"]}),
        rule("welcome", fixed(100), caps={"lifetime": 30}, name="Welcome bonus"),
    )
    customer = uid("cust")
    body = event(
        "order.placed",
        order_data(line("a", 1, "9.00"), line("b", 1, "3.99")),
        customer=customer,
        channel="web",
        store_id="s1",
    )
    result = send(api, body)
    member = member_id_of(api, customer)

    why = explain(api, member, result["transaction_id"])

    assert why["source"] == "event"
    assert why["transaction_id"] == result["transaction_id"]
    assert why["points"] == 42
    assert why["event"]["id"] == body["id"]
    assert why["event"]["type"] == "order.placed"
    assert why["event"]["channel"] == "web"
    assert why["event"]["store_id"] == "s1"
    assert datetime.fromisoformat(why["event"]["occurred_at"]) == START
    assert why["rule_version"] == version
    awards = {a["rule_id"]: a for a in why["awards"]}
    assert set(awards) == {"base", "welcome"}
    assert (awards["base"]["points"], awards["base"]["cut_by"]) == (12, None)
    assert sum(awards["base"]["per_line"]) == 12
    assert (awards["welcome"]["points"], awards["welcome"]["cut_by"]) == (30, "cap:lifetime")
    assert awards["welcome"]["before_caps"] == 100
    assert awards["welcome"]["rule_name"] == "Welcome bonus"
    assert awards["base"]["rule_name"] == "base"  # the name defaults to the id
    [skipped] = why["not_applied"]
    assert skipped["rule_id"] == "app-only"
    assert "channels" in skipped["why"]


def test_explain_keeps_awards_cut_to_zero(api: Api) -> None:
    put_rules(api, BASE, rule("welcome", fixed(100), caps={"lifetime": 100}))
    customer = uid("cust")
    place(api, customer, line("a", 1, "5.00"))
    second = place(api, customer, line("a", 1, "7.00"))

    assert [a["rule_id"] for a in second["awards"]] == ["base"]
    why = explain(api, member_id_of(api, customer), second["transaction_id"])
    awards = {a["rule_id"]: a for a in why["awards"]}
    assert awards["welcome"]["points"] == 0
    assert awards["welcome"]["cut_by"] == "cap:lifetime"
    assert awards["base"]["points"] == 7


def test_explain_a_manual_adjustment_answers_from_the_ledger(api: Api) -> None:
    member = enrol(api)
    response = api.client.post(
        f"/v1/members/{member['id']}/adjustments",
        json={"points": 50, "reason": "goodwill"},
        headers=api.headers(),
    )
    assert response.status_code == 201, response.text
    tx = response.json()

    why = explain(api, member["id"], tx["id"])

    assert why["source"] == "ledger"
    assert why["transaction_id"] == tx["id"]
    assert (why["kind"], why["points"], why["reason"]) == ("adjust_credit", 50, "goodwill")


def test_explain_of_another_members_transaction_is_not_found(api: Api) -> None:
    customer = uid("cust")
    result = place(api, customer, line("a", 1, "5.00"))
    someone_else = enrol(api)

    response = api.client.get(
        f"/v1/members/{someone_else['id']}/transactions/{result['transaction_id']}/explain",
        headers=api.headers(),
    )

    assert response.status_code == 404, response.text


@pytest.mark.parametrize("at", ["0002-01-01T00:00:00Z", "1899-12-31T23:59:59Z"])
def test_an_event_dated_before_1900_is_refused_and_writes_nothing(api: Api, at: str) -> None:
    """Years before 1900 are typing mistakes; they would also reach windows back past year 1."""
    customer = uid("cust")
    response = post_event(api, event("review.submitted", {"sku": "x"}, customer=customer, at=at))
    assert response.status_code == 422, response.text
    assert error(response)["code"] == "validation_error"
    assert [e["field"] for e in error(response)["details"]["errors"]] == ["occurred_at"]
    assert find_member(api, customer) == []


def test_sqlite_text_dates_keep_four_digit_years() -> None:
    """SQLite compares dates as text: a year written without its zeros sorts wrongly."""
    from punchcard.rawsql import _sqlite_text

    assert _sqlite_text(datetime.fromisoformat("0999-01-02T03:04:05+00:00")) == (
        "0999-01-02 03:04:05.000000"
    )
