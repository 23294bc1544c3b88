"""Streaks fed by a batch whose events are not in time order, and the return window of a
streak bonus an order earned."""

from __future__ import annotations

from datetime import timedelta

from punchcard.kit.clock import FixedClock
from tests.conftest import START, Api
from tests.events.test_events_api import (
    event,
    line,
    member_id_of,
    order_data,
    post_batch,
    send,
    uid,
)
from tests.streaks.test_streaks_api import bonuses, make_streak, streaks_of

DAY = timedelta(days=1)


def test_a_batch_newest_first_counts_every_day(api: Api, clock: FixedClock) -> None:
    """A POS syncing two days at once, newest first: the streak is two days long."""
    streak = make_streak(api, bonuses=[{"length": 2, "points": 20}])
    customer = uid("cust")
    clock.set(START + 2 * DAY + timedelta(hours=1))
    events = [
        event("order.placed", order_data(line("sku", 1, "5.00")), customer=customer, at=at)
        for at in (START + 2 * DAY, START + DAY, START)
    ]
    assert post_batch(api, events).status_code == 200
    member = member_id_of(api, customer)
    assert streaks_of(api, member)[streak["id"]]["current_length"] == 3
    assert [points for points, _ in bonuses(api, member)] == [20]


def test_a_streak_bonus_earned_by_an_order_waits_for_its_return_window(
    api: Api, clock: FixedClock
) -> None:
    patched = api.client.patch("/v1/program", json={"pending_days": 14}, headers=api.headers())
    assert patched.status_code == 200, patched.text
    make_streak(api, bonuses=[{"length": 1, "points": 20}])
    make_streak(api, events=["app.installed"], bonuses=[{"length": 1, "points": 3}])
    customer = uid("cust")
    send(api, event("order.placed", order_data(line("sku", 1, "5.00")), customer=customer))
    send(api, event("app.installed", {}, customer=customer))
    balance = api.client.get(
        f"/v1/members/{member_id_of(api, customer)}/balance", headers=api.headers()
    ).json()
    assert (balance["available"], balance["pending"]) == (3, 25)
