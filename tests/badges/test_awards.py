"""Badges earned by events on every earn path (single events, batches, the general path for
refunds, custom events and card numbers), once, with the awarding event and points once;
and the member's view with progress."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from punchcard.db import Database
from punchcard.models.badge import MemberBadge
from punchcard.programs.domain import Scope
from tests.badges.helpers import (
    action,
    badge_points,
    badges_of,
    customer_id,
    earned,
    make_badge,
    order,
)
from tests.conftest import START, Api
from tests.events.test_events_api import event, line, order_data, post_batch, send, uid


def test_first_order_and_fifth_order_badges_name_the_awarding_event(api: Api) -> None:
    first = make_badge(api, {"kind": "order_count", "count": 1}, points=50)
    fifth = make_badge(api, {"kind": "order_count", "count": 5}, points=200)
    customer = uid("cust")

    opening = order(api, customer)
    member = customer_id(api, customer)
    got = earned(api, member)
    assert set(got) == {first["id"]}
    assert got[first["id"]]["source_id"] == opening["event_id"]
    assert got[first["id"]]["points"] == 50

    later = [order(api, customer, at=START + timedelta(hours=i)) for i in range(1, 5)]
    got = earned(api, member)
    assert set(got) == {first["id"], fifth["id"]}
    assert got[fifth["id"]]["source_id"] == later[-1]["event_id"]
    assert got[fifth["id"]]["occurred_at"].startswith((START + timedelta(hours=4)).isoformat()[:19])
    assert sorted(badge_points(api, member)) == [50, 200]  # each badge's points, once


def test_a_replayed_event_awards_nothing_again(api: Api, db: Database) -> None:
    badge = make_badge(api, {"kind": "order_count", "count": 1}, points=10)
    body = event("order.placed", order_data(line("sku", 1, "5.00")), customer=uid("cust"))
    send(api, body)
    send(api, body)  # the same event id again
    member = customer_id(api, body["member"]["external_id"])

    assert badge_points(api, member) == [10]
    with db.reader() as session:
        rows = session.execute(
            select(func.count()).where(MemberBadge.badge_id == badge["id"])
        ).scalar_one()
    assert rows == 1


def test_first_review_and_recycling_counts_and_items(api: Api) -> None:
    review = make_badge(api, {"kind": "event_count", "event_type": "review.submitted", "count": 1})
    drops = make_badge(
        api, {"kind": "event_count", "event_type": "recycling.dropped_off", "count": 3}
    )
    items = make_badge(
        api,
        {"kind": "event_count", "event_type": "recycling.dropped_off", "count": 10, "sum": "items"},
    )
    customer = uid("cust")

    action(api, customer, "recycling.dropped_off", {"items": 4})
    member = customer_id(api, customer)
    assert earned(api, member) == {}
    action(api, customer, "review.submitted", {"rating": 5})
    action(api, customer, "recycling.dropped_off", {"items": 6})  # 10 items now
    assert set(earned(api, member)) == {review["id"], items["id"]}
    action(api, customer, "recycling.dropped_off", {"items": 1})  # the third drop-off
    assert set(earned(api, member)) == {review["id"], items["id"], drops["id"]}


def test_a_batch_awards_each_badge_once(api: Api) -> None:
    first = make_badge(api, {"kind": "order_count", "count": 1}, points=5)
    third = make_badge(api, {"kind": "order_count", "count": 3}, points=7)
    customer = uid("cust")
    events = [
        event("order.placed", order_data(line("sku", 1, "5.00")), customer=customer,
              at=START + timedelta(minutes=i))
        for i in range(4)
    ]  # fmt: skip

    response = post_batch(api, events)

    assert response.status_code == 200, response.text
    member = customer_id(api, customer)
    assert set(earned(api, member)) == {first["id"], third["id"]}
    assert sorted(badge_points(api, member)) == [5, 7]


def test_the_general_path_awards_too_and_a_refund_never_takes_a_badge_back(api: Api) -> None:
    """A member given by card number, a custom event and a refund all take the general path."""
    two = make_badge(api, {"kind": "order_count", "count": 2}, points=20)
    quiz = make_badge(api, {"kind": "event_count", "event_type": "custom.quiz_done", "count": 2})
    customer, order_id = uid("cust"), uid("order")
    send(api, event("order.placed", order_data(line("sku", 1, "10.00"), order_id=order_id),
                    customer=customer))  # fmt: skip
    member = customer_id(api, customer)
    card = api.client.get(f"/v1/members/{member}", headers=api.headers()).json()["card_number"]

    second = send(
        api, event("order.placed", order_data(line("sku", 1, "9.00")), member={"card_number": card})
    )
    assert earned(api, member)[two["id"]]["source_id"] == second["event_id"]
    action(api, customer, "custom.quiz_done")
    action(api, customer, "custom.quiz_done")
    assert quiz["id"] in earned(api, member)

    refunded = send(
        api, event("order.refunded", {"order_id": order_id, "amount": "10.00"}, customer=customer)
    )
    assert refunded["points"]["reversed"] == 10, refunded

    assert two["id"] in earned(api, member)
    assert badge_points(api, member) == [20]


def test_member_view_shows_earned_and_locked_with_progress(api: Api) -> None:
    make_badge(api, {"kind": "order_count", "count": 1}, name="First order")
    make_badge(api, {"kind": "order_count", "count": 5}, name="Regular")
    make_badge(api, {"kind": "event_count", "event_type": "review.submitted", "count": 3},
               name="Critic")  # fmt: skip
    make_badge(api, {"kind": "member_years", "years": 2}, name="Loyal")
    make_badge(api, {"kind": "donations", "count": 1}, name="Giver")
    make_badge(api, {"kind": "manual"}, name="Staff pick")
    make_badge(api, {"kind": "order_count", "count": 1}, name="Retired", active=False)
    customer = uid("cust")
    for i in range(3):
        order(api, customer, at=START + timedelta(hours=i))
    action(api, customer, "review.submitted")
    member = customer_id(api, customer)

    plain = badges_of(api, member)
    assert [b["name"] for b in plain["earned"]] == ["First order"]
    assert plain["locked"] is None
    view = badges_of(api, member, locked=True)
    progress = {b["name"]: b["progress"] for b in view["locked"]}
    assert progress == {
        "Regular": "3 of 5 orders",
        "Critic": "1 of 3 reviews",
        "Loyal": "0 of 2 years a member",
        "Giver": "0 of 1 donation",
        "Staff pick": "given by a challenge or by the program",
    }
    regular = next(b for b in view["locked"] if b["name"] == "Regular")
    assert (regular["current"], regular["target"]) == (3, 5)


def test_member_view_of_an_unknown_member_is_404(api: Api) -> None:
    response = api.client.get("/v1/members/999999999/badges", headers=api.headers())
    assert (response.status_code, response.json()["error"]["code"]) == (404, "member_not_found")


def test_admin_awards_a_manual_badge_once(api: Api) -> None:
    staff = make_badge(api, {"kind": "manual"}, points=30)
    customer = uid("cust")
    order(api, customer)
    member = customer_id(api, customer)
    path = f"/v1/members/{member}/badges"

    first = api.client.post(path, json={"badge_id": staff["id"]}, headers=api.headers())
    again = api.client.post(path, json={"badge_id": staff["id"]}, headers=api.headers())

    assert first.status_code == 201, first.text
    assert first.json()["awarded"] is True
    assert first.json()["source_id"].startswith("admin:")
    assert (again.status_code, again.json()["awarded"]) == (200, False)
    assert badge_points(api, member) == [30]
    denied = api.client.post(
        path, json={"badge_id": staff["id"]}, headers=api.headers(Scope.STOREFRONT)
    )
    assert denied.status_code == 403


def test_admin_award_refusals(api: Api) -> None:
    retired = make_badge(api, {"kind": "manual"}, active=False)
    customer = uid("cust")
    order(api, customer)
    member = customer_id(api, customer)

    def award(member_id: int, badge_id: int) -> tuple[int, str]:
        response = api.client.post(
            f"/v1/members/{member_id}/badges", json={"badge_id": badge_id}, headers=api.headers()
        )
        return response.status_code, response.json()["error"]["code"]

    assert award(member, retired["id"]) == (409, "badge_inactive")
    assert award(member, 999999999) == (404, "badge_not_found")
    live = make_badge(api, {"kind": "manual"})
    assert award(999999999, live["id"]) == (404, "member_not_found")
    assert earned(api, member) == {}
