"""/v1/streaks and /v1/members/{id}/streaks driven by events through the API: break and
resume, same-period events, bonuses at lengths and repeated, late events, conditions, day vs
week, batches and the general path, and the member view at period edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import Api
from tests.events.test_events_api import (
    event,
    line,
    member_id_of,
    order_data,
    post_batch,
    send,
    uid,
)

MON = datetime(2026, 2, 2, 10, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def make_streak(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"name": uid("streak"), "period": "day", "events": ["order.placed"], **fields}
    response = api.client.post("/v1/streaks", json=body, headers=api.headers())
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def buy(api: Api, clock: FixedClock, customer: str, at: datetime, amount: str = "10.00") -> None:
    clock.set(max(clock(), at))
    send(api, event("order.placed", order_data(line("sku", 1, amount)), customer=customer, at=at))


def streaks_of(api: Api, member: int) -> dict[int, dict[str, Any]]:
    response = api.client.get(
        f"/v1/members/{member}/streaks", headers=api.headers(Scope.STOREFRONT)
    )
    assert response.status_code == 200, response.text
    return {s["streak_id"]: s for s in response.json()["items"]}


def bonuses(api: Api, member: int) -> list[tuple[int, str]]:
    response = api.client.get(
        f"/v1/members/{member}/transactions", params={"limit": 200}, headers=api.headers()
    )
    items = [t for t in response.json()["items"] if t["reason"] == "streak"]
    return sorted((t["points"], t["reference"]) for t in items)


def test_daily_streak_grows_breaks_and_resumes_with_bonuses(api: Api, clock: FixedClock) -> None:
    streak = make_streak(api, bonuses=[{"length": 2, "points": 20}, {"length": 3, "points": 50}])
    customer = uid("cust")
    clock.set(MON)
    buy(api, clock, customer, MON)
    buy(api, clock, customer, MON + timedelta(hours=5))  # same day: nothing
    member = member_id_of(api, customer)
    assert streaks_of(api, member)[streak["id"]]["current_length"] == 1
    buy(api, clock, customer, MON + DAY)
    buy(api, clock, customer, MON + 2 * DAY)
    day3 = (MON + 2 * DAY).date().isoformat()
    assert bonuses(api, member) == [
        (20, f"streak:{streak['id']}:{member}:{(MON + DAY).date().isoformat()}"),
        (50, f"streak:{streak['id']}:{member}:{day3}"),
    ]

    buy(api, clock, customer, MON + 4 * DAY)  # day 4 missed: broke, starts again at 1
    state = streaks_of(api, member)[streak["id"]]
    assert (state["current_length"], state["best_length"]) == (1, 3)
    buy(api, clock, customer, MON + 5 * DAY)  # length 2 again: its bonus again
    assert [p for p, _ in bonuses(api, member)] == [20, 20, 50]


def test_late_events_are_ignored_and_a_replay_pays_nothing(api: Api, clock: FixedClock) -> None:
    streak = make_streak(api, bonuses=[{"length": 2, "points": 20}])
    customer = uid("cust")
    buy(api, clock, customer, MON + DAY)
    member = member_id_of(api, customer)
    buy(api, clock, customer, MON)  # dated the day before the one counted: ignored
    assert streaks_of(api, member)[streak["id"]]["current_length"] == 1
    body = event("order.placed", order_data(line("sku", 1, "5.00")), customer=customer,
                 at=MON + 2 * DAY)  # fmt: skip
    clock.set(MON + 2 * DAY)
    send(api, body)
    send(api, body)
    assert [p for p, _ in bonuses(api, member)] == [20]


def test_repeat_every_pays_again_after_the_last_length(api: Api, clock: FixedClock) -> None:
    streak = make_streak(
        api, bonuses=[{"length": 3, "points": 30}, {"length": 1, "points": 5}], repeat_every=2
    )
    assert [b["length"] for b in streak["bonuses"]] == [1, 3]
    customer = uid("cust")
    for day in range(7):
        buy(api, clock, customer, MON + day * DAY)
    member = member_id_of(api, customer)

    assert [p for p, _ in bonuses(api, member)] == [5, 30, 30, 30]  # lengths 1, 3, 5, 7
    view = streaks_of(api, member)[streak["id"]]
    assert view["next_bonus"] == {"length": 9, "points": 30, "periods_to_go": 2}


def test_weekly_streak_counts_iso_weeks(api: Api, clock: FixedClock) -> None:
    streak = make_streak(api, period="week", bonuses=[{"length": 3, "points": 50}])
    customer = uid("cust")
    buy(api, clock, customer, MON + 6 * DAY)  # Sunday of week 1
    buy(api, clock, customer, MON + WEEK)  # Monday of week 2
    buy(api, clock, customer, MON + WEEK + 5 * DAY)  # week 2 again
    member = member_id_of(api, customer)
    assert bonuses(api, member) == []
    buy(api, clock, customer, MON + 2 * WEEK + 3 * DAY)  # week 3: the bonus
    assert [p for p, _ in bonuses(api, member)] == [50]

    clock.set(MON + 3 * WEEK + 6 * DAY)  # Sunday of week 4, nothing yet this week
    view = streaks_of(api, member)[streak["id"]]
    assert (view["current_length"], view["counted_this_period"]) == (3, False)
    assert view["deadline"].startswith("2026-03-02T00:00:00")
    clock.set(MON + 4 * WEEK)  # week 5 began: week 4 was missed
    assert streaks_of(api, member)[streak["id"]]["current_length"] == 0


def test_member_view_at_period_edges(api: Api, clock: FixedClock) -> None:
    streak = make_streak(api, bonuses=[{"length": 3, "points": 30}])
    customer = uid("cust")
    buy(api, clock, customer, MON)
    buy(api, clock, customer, MON + DAY)
    member = member_id_of(api, customer)
    tue = MON.replace(hour=0) + DAY

    clock.set(tue + DAY - timedelta(microseconds=1))  # the last instant of Tuesday
    view = streaks_of(api, member)[streak["id"]]
    assert (view["current_length"], view["counted_this_period"]) == (2, True)
    assert view["deadline"].startswith("2026-02-05T00:00:00")
    assert view["next_bonus"] == {"length": 3, "points": 30, "periods_to_go": 1}
    clock.set(tue + DAY)  # Wednesday: alive, not yet counted
    view = streaks_of(api, member)[streak["id"]]
    assert (view["current_length"], view["counted_this_period"]) == (2, False)
    clock.set(tue + 2 * DAY)  # Thursday: Wednesday was missed
    view = streaks_of(api, member)[streak["id"]]
    assert (view["current_length"], view["deadline"], view["best_length"]) == (0, None, 2)
    assert view["next_bonus"]["periods_to_go"] == 3


def test_conditions_use_the_rules_language(api: Api, clock: FixedClock) -> None:
    streak = make_streak(api, conditions={"min_amount": "20.00", "channels": ["web"]})
    customer = uid("cust")
    clock.set(MON)
    send(api, event("order.placed", order_data(line("sku", 1, "25.00")), customer=customer,
                    at=MON, channel="pos"))  # fmt: skip
    buy(api, clock, customer, MON + DAY, amount="5.00")
    member = member_id_of(api, customer)
    assert streaks_of(api, member)[streak["id"]]["current_length"] == 0
    send(api, event("order.placed", order_data(line("sku", 1, "25.00")), customer=customer,
                    at=MON + DAY, channel="web"))  # fmt: skip
    assert streaks_of(api, member)[streak["id"]]["current_length"] == 1


def test_batches_custom_events_and_refunds(api: Api, clock: FixedClock) -> None:
    """A batch on the fast path; custom events on the general path; a refund is no event of
    the streak (its type is not listed) and changes nothing."""
    streak = make_streak(
        api, events=["order.placed", "custom.workout"], bonuses=[{"length": 3, "points": 9}]
    )
    customer, order_id = uid("cust"), uid("order")
    clock.set(MON + 2 * DAY)
    first = event("order.placed", order_data(line("sku", 1, "10.00"), order_id=order_id),
                  customer=customer, at=MON)  # fmt: skip
    second = event("order.placed", order_data(line("sku", 1, "10.00")), customer=customer,
                   at=MON + DAY)  # fmt: skip
    assert post_batch(api, [first, second]).status_code == 200
    send(api, event("custom.workout", {}, customer=customer, at=MON + 2 * DAY))
    send(api, event("order.refunded", {"order_id": order_id, "amount": "10.00"},
                    customer=customer, at=MON + 2 * DAY))  # fmt: skip
    member = member_id_of(api, customer)

    assert streaks_of(api, member)[streak["id"]]["current_length"] == 3
    assert [p for p, _ in bonuses(api, member)] == [9]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["order.shipped"]}, "events"),
        ({"events": ["tier.upgraded"]}, "events"),
        ({"bonuses": [{"length": 2, "points": 1}, {"length": 2, "points": 3}]}, "bonuses"),
        ({"repeat_every": 2}, "repeat_every"),
        ({"conditions": {"min_amount": "x"}}, "conditions"),
        ({"conditions": {"colour": "red"}}, "conditions"),
    ],
)
def test_bad_streaks_are_refused(api: Api, body: dict[str, Any], field: str) -> None:
    full = {"name": "s", "period": "day", "events": ["order.placed"], **body}
    response = api.client.post("/v1/streaks", json=full, headers=api.headers())

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["details"]["field"]) == ("invalid_streak", field)
    assert api.client.get("/v1/streaks", headers=api.headers()).json()["items"] == []


def test_condition_errors_name_their_path(api: Api) -> None:
    full = {"name": "s", "period": "day", "events": ["order.placed"],
            "conditions": {"min_amount": "30", "max_amount": "10"}}  # fmt: skip
    response = api.client.post("/v1/streaks", json=full, headers=api.headers())
    assert response.json()["error"]["details"]["errors"][0]["path"] == "conditions"
    shape = api.client.post("/v1/streaks", json={**full, "period": "month"}, headers=api.headers())
    assert (shape.status_code, shape.json()["error"]["code"]) == (422, "validation_error")


def test_crud_patch_and_tenancy(api: Api, clock: FixedClock) -> None:
    streak = make_streak(api, bonuses=[{"length": 2, "points": 20}])
    path = f"/v1/streaks/{streak['id']}"
    assert api.client.get(path, headers=api.headers(Scope.POS)).json() == streak

    changed = api.client.patch(
        path, json={"name": "Daily", "repeat_every": 1, "period": "day"}, headers=api.headers()
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["repeat_every"]) == ("Daily", 1)
    period = api.client.patch(path, json={"period": "week"}, headers=api.headers())
    assert (period.status_code, period.json()["error"]["details"]["field"]) == (422, "period")
    cleared = api.client.patch(path, json={"bonuses": []}, headers=api.headers())
    assert cleared.json()["error"]["details"]["field"] == "repeat_every"  # repeats nothing
    null = api.client.patch(path, json={"events": None}, headers=api.headers())
    assert null.status_code == 422
    assert (
        api.client.patch(path, json={"name": "x"}, headers=api.headers(Scope.POS)).status_code
        == 403
    )

    retired = api.client.patch(path, json={"active": False}, headers=api.headers())
    assert retired.json()["active"] is False
    customer = uid("cust")
    buy(api, clock, customer, MON)
    assert streaks_of(api, member_id_of(api, customer)) == {}  # retired: not in the view
    missing = api.client.get("/v1/streaks/999999999", headers=api.headers())
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "streak_not_found")
    unknown = api.client.get("/v1/members/999999999/streaks", headers=api.headers())
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "member_not_found")
