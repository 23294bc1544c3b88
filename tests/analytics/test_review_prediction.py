"""Review of issue 7's prediction part: each test pins one problem found in review and fails
until it is fixed. Data is built through the API (orders via events), on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from tests.conftest import Api
from tests.events.test_events_api import event, line, member_id_of, order_data, send, uid
from tests.leaderboards.helpers import buy

BASE = datetime(2025, 6, 2, 12, tzinfo=UTC)
NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)


def _day(n: int) -> datetime:
    return BASE + timedelta(days=n)


def _base(api: Api, clock: FixedClock, prefix: str = "c", customers: int = 14) -> dict[str, str]:
    """`customers` buyers from June 2025 on; most come back on a few later days, with varied
    amounts, so BG/NBD fits. The clock ends at NOW. Each customer's first order id."""
    names = [f"{prefix}{n}" for n in range(customers)]
    first: dict[str, str] = {}
    for n, name in enumerate(names):
        first[name] = buy(api, clock, name, f"{10 + n}.00", _day(n))["order_id"]
        for k in range(n % 4 if n >= 2 else 0):
            buy(api, clock, name, f"{12 + 3 * k + n}.50", _day(n + 9 * (k + 1) + n))
    clock.set(NOW)
    return first


def _fit(api: Api, **body: Any) -> Any:
    return api.client.post("/v1/analytics/predictions", json=body, headers=api.headers())


def _insights(api: Api, member_id: int, **params: Any) -> Any:
    response = api.client.get(
        f"/v1/members/{member_id}/insights", params=params, headers=api.headers()
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_an_order_refunded_line_by_line_is_still_counted_as_a_purchase(
    api: Api, clock: FixedClock
) -> None:
    """docs/prediction.md: "An order fully refunded or cancelled is not a purchase". The
    repository keeps orders with `total - refunded_amount > 0`, but a refund of every line
    marks the order `refunded` while `refunded_amount` stops at the sum of the lines: an order
    with shipping (total 100.00, one line of 90.00) refunded line by line keeps 10.00 "net",
    so the returned order is still a transaction day for BG/NBD, RFM and CLV (and cannot be
    refunded further: 409 order_refunded). Filter on `status <> 'refunded'` as well."""
    clock.set(_day(0))
    order = order_data(line("sku", 1, "90.00"), total="100.00")
    send(api, event("order.placed", order, customer="returner", at=_day(0)))
    clock.set(_day(1))
    refund = {"order_id": order["order_id"], "lines": [{"sku": "sku", "quantity": 1}]}
    refunded = send(api, event("order.refunded", refund, customer="returner", at=_day(1)))
    assert refunded["order_status"] == "refunded"  # the order says it is fully refunded
    clock.set(NOW)

    found = _insights(api, member_id_of(api, "returner"))

    assert found["purchases"]["orders"] == 0, found["purchases"]
    assert found["purchases"]["total_value"] == "0.00"


def test_orders_in_another_currency_are_added_as_if_in_the_program_currency(
    api: Api, clock: FixedClock
) -> None:
    """Orders carry their own `currency` (any ISO code is accepted), but the history read for
    the models sums `total` across currencies: 10 USD and 5000 JPY become 5010 "in the
    program's currency" (the docs' unit for total_value, expected values and CLV), so one
    foreign-currency order makes a member a champion and skews Gamma-Gamma for everyone.
    Read only the program's currency (and say how many orders were left out), or convert."""
    buy(api, clock, "traveller", "10.00", _day(0))
    clock.set(_day(3))
    yen = {**order_data(line("sku", 1, "5000.00")), "currency": "JPY"}
    send(api, event("order.placed", yen, customer="traveller", at=_day(3)))
    clock.set(NOW)

    found = _insights(api, member_id_of(api, "traveller"))

    assert found["purchases"]["total_value"] != "5010.00", found["purchases"]


def test_later_customers_are_not_counted_without_a_holdout(api: Api, clock: FixedClock) -> None:
    """docs/prediction.md: members whose first purchase comes after calibration_end "are left
    out and counted as later_customers". The repository reads orders only up to
    `holdout_end or calibration_end`, so without a holdout no later order is ever read and
    `later_customers` is always 0, however many members joined since (with a holdout, those
    who joined after holdout_end are missed the same way). Count them with a separate query
    (`min(placed_at) > calibration_end`)."""
    _base(api, clock)
    for n in range(3):
        buy(api, clock, f"late{n}", "20.00", datetime(2026, 1, 10 + n, 12, tzinfo=UTC))
    clock.set(NOW)

    response = _fit(api, calibration_end="2025-12-31", save=False)

    assert response.status_code == 200, response.text
    assert response.json()["later_customers"] == 3


def test_segments_keep_serving_the_previous_model_after_a_refit(
    db: Database, api: Api, clock: FixedClock
) -> None:
    """The population cache key is (program, day, weeks, months, rate): the kept model's id is
    not in it (population.py's docstring says it is), and POST /v1/analytics/predictions does
    not forget it. So right after a refit the segments and member lists are still scored with
    the old model for the whole cache TTL, while GET /v1/members/{id}/insights already uses
    the new one. Put the model id in the key (or forget the kind on keep)."""
    _base(api, clock)
    app = create_app(Settings(database_url=db.url, cache_ttl_seconds=3600), db=db, clock=clock)
    with TestClient(app) as client:
        first = client.post(
            "/v1/analytics/predictions",
            json={"calibration_end": "2025-09-30"},
            headers=api.headers(),
        )
        assert first.status_code == 201, first.text
        before = client.get("/v1/analytics/segments", headers=api.headers())
        assert before.status_code == 200, before.text
        second = client.post(
            "/v1/analytics/predictions",
            json={"calibration_end": "2026-01-14"},
            headers=api.headers(),
        )
        assert second.status_code == 201, second.text
        after = client.get("/v1/analytics/segments", headers=api.headers())

    assert after.status_code == 200, after.text
    assert after.json()["model"]["id"] == second.json()["id"], (
        first.json()["id"],
        after.json()["model"],
    )


def test_segments_before_any_order_answer_a_status_the_document_does_not_list(
    api: Api, clock: FixedClock
) -> None:
    """With a kept model, GET /v1/analytics/segments?as_of=<a day before any order> raises
    `no_orders` from history.summarise and answers 409, but the route declares only 401, 403,
    404 and 422 (schemathesis's status_code_conformance would flag it once the fuzzed program
    has a kept model). An empty population is a legitimate answer: 200 with zero members
    scored (or declare 409 and document it)."""
    _base(api, clock)
    assert _fit(api, calibration_end="2026-01-14").status_code == 201

    response = api.client.get(
        "/v1/analytics/segments", params={"as_of": "2025-01-01"}, headers=api.headers()
    )

    app = api.client.app
    assert isinstance(app, FastAPI)
    documented = app.openapi()["paths"]["/v1/analytics/segments"]["get"]["responses"]
    assert str(response.status_code) in documented, (response.status_code, response.text)


def test_an_idempotent_replay_refits_and_can_fail_instead_of_replaying(
    api: Api, clock: FixedClock
) -> None:
    """DESIGN.md: same Idempotency-Key, same payload: the original response, byte for byte.
    create_prediction runs the whole fit (seconds to minutes on a big program) BEFORE
    run_write looks the key up, so every retry pays for a new fit, and when the orders have
    changed since (here: two customers' orders cancelled, leaving 9 customers) the retry
    answers 409 too_few_customers instead of replaying the 201. Look the key up first."""
    first_orders = _base(api, clock, customers=11)
    headers = {**api.headers(), "Idempotency-Key": uid("fit")}
    body = {"calibration_end": "2026-01-14"}
    original = api.client.post("/v1/analytics/predictions", json=body, headers=headers)
    assert original.status_code == 201, original.text
    for name in ("c0", "c1"):  # c0 and c1 bought once: cancelling that order removes them
        cancel = {"order_id": first_orders[name]}
        send(api, event("order.cancelled", cancel, customer=name, at=NOW))

    replay = api.client.post("/v1/analytics/predictions", json=body, headers=headers)

    assert replay.status_code == 201, replay.text
    assert replay.content == original.content


def test_ten_customers_of_whom_one_came_back_give_a_degenerate_fit(
    api: Api, clock: FixedClock
) -> None:
    """Ten customers of whom one came back pass every check (MIN_CUSTOMERS counts customers,
    not repeat customers) and the fit "converges" to a corner (a of about 1.5e5, b of about
    5e-6: every customer drops out right after a repeat purchase). The one loyal customer, who
    came back 4 days after his first order, is then reported dead (p_alive about 3e-11) while
    the nine one-time buyers are certainly alive. Refuse with a clear 409 (too few repeat
    customers to estimate the dropout) or flag fits whose dropout parameters run off."""
    for n in range(10):
        buy(api, clock, f"t{n}", "10.00", datetime(2026, 1, 1 + n, 12, tzinfo=UTC))
    buy(api, clock, "t0", "10.00", datetime(2026, 1, 5, 12, tzinfo=UTC))
    clock.set(NOW)

    fitted = _fit(api, calibration_end="2026-01-14")

    if fitted.status_code == 409:
        return
    assert fitted.status_code == 201, fitted.text
    loyal = _insights(api, member_id_of(api, "t0"), as_of="2026-01-14")
    assert loyal["prediction"]["p_alive"] > 1e-3, (fitted.json()["bgnbd"], loyal["prediction"])


def test_a_kept_model_scores_money_after_the_program_currency_changed(
    api: Api, clock: FixedClock
) -> None:
    """The kept fit stores Gamma-Gamma parameters and RFM monetary cut points in the units of
    the orders it learnt from, but not which currency that was. After PATCH /v1/program
    {"currency": "JPY"} the USD-fitted spend model still prices members' expected order values
    and CLV, now labelled in yen by the docs ("in the program's currency"), with no note.
    Keep the currency with the model and, when it differs, leave values and CLV null with a
    note (or refuse with a clear error) until a refit."""
    _base(api, clock, customers=16)
    fitted = _fit(api, calibration_end="2026-01-14")
    assert fitted.status_code == 201, fitted.text
    patched = api.client.patch("/v1/program", json={"currency": "JPY"}, headers=api.headers())
    assert patched.status_code == 200, patched.text
    # Orders in the old currency no longer count; a yen order makes c7 a buyer again.
    order = order_data(line("sku", 1, "1500")) | {"currency": "JPY"}
    send(api, event("order.placed", order, customer="c7", at=NOW))

    found = _insights(api, member_id_of(api, "c7"))

    assert found["prediction"] is not None
    assert found["prediction"]["clv"] is None
    assert found["prediction"]["expected_average_value"] is None
    assert any("USD" in note and "JPY" in note for note in found["notes"]), found


def test_a_date_that_does_not_parse_gets_the_documented_code(api: Api) -> None:
    """docs/prediction.md names the code a date that does not parse gets: the generic
    validation code `wrong_type`, as for every other field (the docs once said
    `invalid_value`, which is for dates in the future)."""
    response = _fit(api, calibration_end="1997-13-01")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "wrong_type", response.text
    docs = Path(__file__).resolve().parents[2] / "docs" / "prediction.md"
    assert "`wrong_type`: a date that does not parse" in docs.read_text()
